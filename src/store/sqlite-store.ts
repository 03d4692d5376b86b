// Builds a KyselyStore on a SQLite file through better-sqlite3; one connection per file and process.

import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import {
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type SqliteDatabase,
} from 'kysely'
import { importDriver, KyselyStore, type SqlFlavour, type StoreOptions } from './kysely-store.js'

/** SQLite's flags: a write transaction locks the whole database, so no row locks are needed. */
export const SQLITE: SqlFlavour = {
  name: 'sqlite',
  upsert: 'on-conflict',
  shareLock: null,
  updateLock: null,
  binaryCollation: false,
  transientErrorCodes: new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED']),
}

/**
 * How long a connection waits for another process's write lock before giving up, in ms.
 * better-sqlite3 waits synchronously, holding the app's event loop, so the wait is kept short;
 * the store retries a busy transaction after an asynchronous pause instead.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 50

/** The part of better-sqlite3's Database that we use. */
export interface BetterSqliteDatabase extends SqliteDatabase {
  pragma(source: string): unknown
}

/** The part of the better-sqlite3 module that we use. */
export interface BetterSqliteModule {
  new (filename: string): BetterSqliteDatabase
}

/**
 * One connection per file and process. better-sqlite3 blocks the event loop while it waits for
 * a lock, so two connections of one process would wait on each other until the busy timeout;
 * one shared driver (whose mutex serialises transactions) avoids that. Other processes wait normally.
 */
const shared = new Map<string, SharedDriver>()

/**
 * Opens (or creates, with its folders) a SQLite database in WAL mode with a busy timeout, so
 * several processes can share the file.
 *
 * @param filename a path, relative to the working directory or absolute, or `:memory:`
 * @example
 * const store = await createSqliteStore('/var/lib/app/status.db', { tablePrefix: 'server_status_' })
 */
export async function createSqliteStore(filename: string, options: StoreOptions): Promise<KyselyStore> {
  const Database = await importDriver<BetterSqliteModule>('better-sqlite3', 'install better-sqlite3 to use sqlite:// URLs')
  let driver: Driver
  if (filename === ':memory:') {
    driver = new SqliteDialect({ database: openSqlite(Database, filename) }).createDriver()
  } else {
    const path = resolve(filename)
    let entry = shared.get(path)
    if (entry === undefined) {
      mkdirSync(dirname(path), { recursive: true })
      entry = new SharedDriver(new SqliteDialect({ database: openSqlite(Database, path) }).createDriver(), () => {
        if (shared.get(path) === entry) shared.delete(path)
      })
      shared.set(path, entry)
    }
    driver = entry.user()
  }
  const db = new Kysely<any>({ dialect: new SqliteDriverDialect(driver), log: options.log })
  return new KyselyStore({ db, flavour: SQLITE, tablePrefix: options.tablePrefix })
}

/** Kysely's SQLite dialect around a driver made beforehand. */
class SqliteDriverDialect implements Dialect {
  readonly #driver: Driver

  constructor(driver: Driver) {
    this.#driver = driver
  }

  createDriver(): Driver {
    return this.#driver
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler()
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter()
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db)
  }
}

/** A driver shared by several Kysely instances; the last user to leave destroys it. */
class SharedDriver {
  readonly #driver: Driver
  readonly #onDestroy: () => void
  #users = 0
  #ready: Promise<void> | undefined

  constructor(driver: Driver, onDestroy: () => void) {
    this.#driver = driver
    this.#onDestroy = onDestroy
  }

  /** A handle for one more user: everything but `init` and `destroy` passes through. */
  user(): Driver {
    this.#users += 1
    const driver = this.#driver
    let left = false
    return {
      init: () => (this.#ready ??= driver.init()),
      acquireConnection: () => driver.acquireConnection(),
      beginTransaction: (connection, settings) => driver.beginTransaction(connection, settings),
      commitTransaction: (connection) => driver.commitTransaction(connection),
      rollbackTransaction: (connection) => driver.rollbackTransaction(connection),
      savepoint: (connection, name, compile) => driver.savepoint!(connection, name, compile),
      rollbackToSavepoint: (connection, name, compile) => driver.rollbackToSavepoint!(connection, name, compile),
      releaseSavepoint: (connection, name, compile) => driver.releaseSavepoint!(connection, name, compile),
      releaseConnection: (connection) => driver.releaseConnection(connection),
      destroy: async () => {
        if (left) return
        left = true
        this.#users -= 1
        if (this.#users > 0) return
        this.#onDestroy()
        await driver.destroy()
      },
    }
  }
}

function openSqlite(Database: BetterSqliteModule, filename: string): BetterSqliteDatabase {
  const database = new Database(filename)
  // the timeout first: switching to WAL needs a lock another process may hold
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`)
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  return database
}
