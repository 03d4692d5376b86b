// Builds a KyselyStore on a SQLite file through better-sqlite3, shared per file within a process.

import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely'
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

/** How long a connection waits for another process's write lock before giving up, in ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000

/** The part of better-sqlite3's Database that we use. */
export interface BetterSqliteDatabase extends SqliteDatabase {
  pragma(source: string): unknown
}

/** The part of the better-sqlite3 module that we use. */
export interface BetterSqliteModule {
  new (filename: string): BetterSqliteDatabase
}

interface SharedDatabase {
  db: Kysely<any>
  users: number
}

/**
 * One connection per file and process. better-sqlite3 blocks the event loop while it waits for
 * a lock, so two connections of one process would wait on each other until the busy timeout;
 * one shared connection serialises their transactions instead. Other processes wait normally.
 */
const shared = new Map<string, SharedDatabase>()

/**
 * Opens (or creates, with its folders) a SQLite database in WAL mode with a busy timeout, so
 * several processes can share the file.
 *
 * @param filename a path, relative to the working directory or absolute, or `:memory:`
 * @example
 * const store = await createSqliteStore('/var/lib/app/status.db', { tablePrefix: 'server_status_' })
 */
export async function createSqliteStore(filename: string, options: StoreOptions): Promise<KyselyStore> {
  if (filename === ':memory:') {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: await openSqlite(filename) }), log: options.log })
    return new KyselyStore({ db, flavour: SQLITE, tablePrefix: options.tablePrefix })
  }
  const path = resolve(filename)
  let entry = shared.get(path)
  if (entry === undefined) {
    mkdirSync(dirname(path), { recursive: true })
    const database = await openSqlite(path)
    // another store of this process may have opened it while the driver loaded
    entry = shared.get(path) ?? { db: new Kysely<any>({ dialect: new SqliteDialect({ database }), log: options.log }), users: 0 }
    if (shared.get(path) === entry) database.close()
    shared.set(path, entry)
  }
  entry.users += 1
  const current = entry
  let released = false
  return new KyselyStore({
    db: current.db,
    flavour: SQLITE,
    tablePrefix: options.tablePrefix,
    destroy: async () => {
      if (released) return
      released = true
      current.users -= 1
      if (current.users > 0) return
      if (shared.get(path) === current) shared.delete(path)
      await current.db.destroy()
    },
  })
}

async function openSqlite(filename: string): Promise<BetterSqliteDatabase> {
  const Database = await importDriver<BetterSqliteModule>('better-sqlite3', 'install better-sqlite3 to use sqlite:// URLs')
  const database = new Database(filename)
  // the timeout first: switching to WAL needs a lock another process may hold
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`)
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  return database
}
