// The Store written once with Kysely for SQLite, PostgreSQL and MySQL; dialects differ only by flags.

import {
  Migrator,
  OperationNodeTransformer,
  sql,
  type ColumnType,
  type CreateTableBuilder,
  type Kysely,
  type KyselyPlugin,
  type LogConfig,
  type Migration,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type TableNode,
  type Transaction,
  type UnknownRow,
} from 'kysely'
import type { DayRow, MinuteCounts, MinuteRow, RouteRecord, Store } from '../types.js'

/** Options shared by every store factory. */
export interface StoreOptions {
  /** Prefix of the table names, so several apps can share one database. @example 'server_status_' */
  tablePrefix: string
  /** Kysely's query log, e.g. `(event) => console.log(event.query.sql)`. Default: none. */
  log?: LogConfig
}

/**
 * What sets one database's SQL apart from another's. Everything else is written once.
 *
 * @example
 * const POSTGRES: SqlFlavour = { upsert: 'on-conflict', shareLock: 'for share', updateLock: 'for update', … }
 */
export interface SqlFlavour {
  /** Name used in messages, e.g. `postgres`. */
  readonly name: string
  /**
   * How an insert adds to a row that exists: `on-conflict` is
   * `INSERT … ON CONFLICT (…) DO UPDATE SET c = t.c + excluded.c` (SQLite, PostgreSQL);
   * `on-duplicate-key` is `INSERT … ON DUPLICATE KEY UPDATE c = c + VALUES(c)` (MySQL, MariaDB).
   */
  readonly upsert: 'on-conflict' | 'on-duplicate-key'
  /**
   * Clause that share-locks the route rows a write reads, so a concurrent `deleteRoute` waits
   * for the write (or the write for it) and no count lands after a delete. `null` where a
   * write transaction locks the whole database (SQLite), which also serialises them.
   */
  readonly shareLock: 'for share' | 'lock in share mode' | null
  /** Clause that locks a route row before it is changed; `null` as for `shareLock`. */
  readonly updateLock: 'for update' | null
  /**
   * Declares table character set and a binary, no-pad collation for MySQL, whose defaults
   * (often latin1, case- and trailing-space-insensitive) would merge `/A` with `/a`.
   */
  readonly binaryCollation: boolean
  /**
   * Error codes (`error.code`) after which a transaction is retried: deadlocks, busy database.
   * The transaction was rolled back, so a retry never counts twice.
   */
  readonly transientErrorCodes: ReadonlySet<string>
}

/** Name of the newest migration: what `schemaVersion()` returns once `init()` has run. */
export const SCHEMA_VERSION = '0002_batches'

/** Rows per multi-row INSERT; far below every database's bound-parameter limit (7 per row). */
export const CHUNK_SIZE = 500

const TRANSACTION_ATTEMPTS = 8
const MIGRATION_ATTEMPTS = 6

type Counter = ColumnType<number | string, number, number>

interface CountColumns {
  success: Counter
  failure: Counter
  ignored: Counter
  duration_ms: Counter
}

/** The tables as queries name them; the table-prefix plugin adds the prefix. */
interface Tables {
  routes: { rule: string; name: string | null; doc: string | null; hidden: number; created_at: string }
  minutes: CountColumns & { rule: string; minute: Counter }
  days: CountColumns & { rule: string; day: string }
  batches: { id: string; minute: Counter }
}

/** What `KyselyStore` is built from. */
export interface KyselyStoreConfig {
  /** A Kysely instance of the database; the store adds its own table-prefix plugin. */
  db: Kysely<any>
  flavour: SqlFlavour
  tablePrefix: string
  /** Releases the connection(s). Default: `db.destroy()`. */
  destroy?: () => Promise<void>
}

/**
 * A `Store` on SQLite, PostgreSQL or MySQL/MariaDB. Counters only ever change through atomic
 * increment upserts, so any number of processes may write to one database at once.
 *
 * @example
 * const store = await createStore('postgres://app@db/status', { tablePrefix: 'server_status_' })
 * await store.init()
 * await store.write([{ rule: '/', minute: 29_000_000, day: '2025-02-20', success: 3, failure: 0, ignored: 0, durationMs: 12 }])
 */
export class KyselyStore implements Store {
  /** The dialect's flags. */
  readonly flavour: SqlFlavour
  /** Prefix of every table name. */
  readonly tablePrefix: string
  readonly #base: Kysely<any>
  readonly #db: Kysely<Tables>
  readonly #destroy: () => Promise<void>
  #closed: Promise<void> | undefined

  constructor(config: KyselyStoreConfig) {
    this.flavour = config.flavour
    this.tablePrefix = config.tablePrefix
    this.#base = config.db
    this.#db = (config.db as Kysely<Tables>).withPlugin(new TablePrefixPlugin(config.tablePrefix))
    this.#destroy = config.destroy ?? (() => config.db.destroy())
  }

  /** Creates or migrates the tables; retried because concurrent first starts race on Kysely's own tables. */
  async init(): Promise<void> {
    const migrator = this.#migrator()
    for (let attempt = 1; ; attempt++) {
      const { error } = await migrator.migrateToLatest()
      if (error === undefined) return
      if (attempt >= MIGRATION_ATTEMPTS) {
        throw new Error(`server-status: migrating the ${this.flavour.name} tables failed: ${String(error)}`, {
          cause: error,
        })
      }
      await pause(attempt)
    }
  }

  /** Name of the newest migration run on this database, `null` before `init()`. @example '0001_initial' */
  async schemaVersion(): Promise<string | null> {
    const migrations = await this.#migrator().getMigrations()
    const executed = migrations.filter((migration) => migration.executedAt !== undefined)
    return executed.at(-1)?.name ?? null
  }

  async registerRoutes(rules: readonly string[]): Promise<void> {
    const unique = [...new Set(rules)].sort(compare)
    if (unique.length === 0) return
    await this.#transaction((trx) => this.#insertRules(trx, unique))
  }

  async listRoutes(): Promise<RouteRecord[]> {
    const rows = await this.#db.selectFrom('routes').select(['rule', 'name', 'doc', 'hidden']).orderBy('rule').execute()
    return rows.map(toRouteRecord)
  }

  async write(counts: readonly MinuteCounts[], batchId?: string): Promise<void> {
    if (counts.length === 0) return
    const minutes = aggregate(counts, (c) => c.minute)
    const days = aggregate(counts, (c) => c.day)
    const rules = [...new Set(counts.map((c) => c.rule))].sort(compare)
    await this.#transaction(async (trx) => {
      // a write first: on SQLite it takes the database's write lock before anything is read
      await this.#insertRules(trx, rules)
      if (batchId !== undefined) {
        // a batch whose commit went through but whose reply was lost is not added twice
        const done = await trx.selectFrom('batches').select('id').where('id', '=', batchId).executeTakeFirst()
        if (done !== undefined) return
        await trx.insertInto('batches').values({ id: batchId, minute: Math.floor(Date.now() / 60_000) }).execute()
      }
      const hidden = await this.#hiddenRules(trx, rules)
      const shown = (rows: Aggregate[]) => rows.filter((row) => !hidden.has(row.rule))
      for (const chunk of chunks(shown(minutes))) {
        await this.#upsertCounts(
          trx,
          'minutes',
          ['rule', 'minute'],
          chunk.map((row) => ({ rule: row.rule, minute: row.key, ...countColumns(row) })),
        )
      }
      for (const chunk of chunks(shown(days))) {
        await this.#upsertCounts(
          trx,
          'days',
          ['rule', 'day'],
          chunk.map((row) => ({ rule: row.rule, day: row.key, ...countColumns(row) })),
        )
      }
    })
  }

  async updateRoute(rule: string, info: { name?: string; doc?: string }): Promise<RouteRecord> {
    return this.#transaction(async (trx) => {
      await this.#insertRules(trx, [rule])
      const before = await this.#lockRoute(trx, rule)
      const changes: { name?: string; doc?: string; hidden: number } = { hidden: 0 }
      if (info.name !== undefined) changes.name = info.name
      if (info.doc !== undefined) changes.doc = info.doc
      await trx.updateTable('routes').set(changes).where('rule', '=', rule).execute()
      // a hidden route comes back with no history, whatever was left behind
      if (before.hidden) await this.#deleteHistory(trx, rule)
      return { ...before, ...changes, hidden: false }
    })
  }

  async deleteRoute(rule: string): Promise<void> {
    await this.#transaction(async (trx) => {
      // hiding first locks the route row, so a concurrent write either finished or sees it hidden
      const row = { rule, name: null, doc: null, hidden: 1, created_at: new Date().toISOString() }
      const insert = trx.insertInto('routes').values(row)
      await (this.flavour.upsert === 'on-conflict'
        ? insert.onConflict((oc) => oc.column('rule').doUpdateSet({ hidden: 1 }))
        : insert.onDuplicateKeyUpdate({ hidden: 1 })
      ).execute()
      await this.#deleteHistory(trx, rule)
    })
  }

  async readDays(fromDay: string): Promise<DayRow[]> {
    const rows = await this.#db
      .selectFrom('days')
      .select(['rule', 'day', 'success', 'failure', 'ignored', 'duration_ms'])
      .where('day', '>=', fromDay)
      .orderBy('rule')
      .orderBy('day')
      .execute()
    return rows.map((row) => ({ rule: row.rule, day: row.day, ...countsOf(row) }))
  }

  async readMinutes(fromMinute: number): Promise<MinuteRow[]> {
    const rows = await this.#db
      .selectFrom('minutes')
      .select(['rule', 'minute', 'success', 'failure', 'ignored', 'duration_ms'])
      .where('minute', '>=', fromMinute)
      .orderBy('rule')
      .orderBy('minute')
      .execute()
    return rows.map((row) => ({ rule: row.rule, minute: Number(row.minute), ...countsOf(row) }))
  }

  async prune(beforeMinute: number, beforeDay: string): Promise<void> {
    await this.#transaction(async (trx) => {
      await trx.deleteFrom('minutes').where('minute', '<', beforeMinute).execute()
      await trx.deleteFrom('days').where('day', '<', beforeDay).execute()
      await trx.deleteFrom('batches').where('minute', '<', beforeMinute).execute()
    })
  }

  /** Releases the connections; safe to call twice. */
  async close(): Promise<void> {
    this.#closed ??= this.#destroy()
    await this.#closed
  }

  #migrator(): Migrator {
    const prefix = this.tablePrefix
    const flavour = this.flavour
    return new Migrator({
      db: this.#base,
      provider: { getMigrations: async () => migrations(prefix, flavour) },
      migrationTableName: `${prefix}migration`,
      migrationLockTableName: `${prefix}migration_lock`,
    })
  }

  /** Runs `work` in a transaction, again after a deadlock or a busy database. */
  async #transaction<T>(work: (trx: Transaction<Tables>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#db.transaction().execute(work)
      } catch (error) {
        if (attempt >= TRANSACTION_ATTEMPTS || !this.#isTransient(error)) throw error
        await pause(attempt)
      }
    }
  }

  #isTransient(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code
    return typeof code === 'string' && this.flavour.transientErrorCodes.has(code)
  }

  /** Adds unknown rules, never touching known ones. `rules` sorted, so concurrent inserts lock in one order. */
  async #insertRules(trx: Transaction<Tables>, rules: readonly string[]): Promise<void> {
    const createdAt = new Date().toISOString()
    for (const chunk of chunks(rules)) {
      const insert = trx
        .insertInto('routes')
        .values(chunk.map((rule) => ({ rule, name: null, doc: null, hidden: 0, created_at: createdAt })))
      await (this.flavour.upsert === 'on-conflict'
        ? insert.onConflict((oc) => oc.column('rule').doNothing())
        : // not INSERT IGNORE, which would also turn a too-long rule into a silent truncation
          insert.onDuplicateKeyUpdate((eb) => ({ rule: eb.ref('rule') }))
      ).execute()
    }
  }

  async #hiddenRules(trx: Transaction<Tables>, rules: readonly string[]): Promise<Set<string>> {
    const hidden = new Set<string>()
    for (const chunk of chunks(rules)) {
      let query = trx.selectFrom('routes').select(['rule', 'hidden']).where('rule', 'in', chunk)
      if (this.flavour.shareLock !== null) query = query.modifyEnd(sql.raw(this.flavour.shareLock))
      for (const row of await query.execute()) if (Number(row.hidden) !== 0) hidden.add(row.rule)
    }
    return hidden
  }

  async #lockRoute(trx: Transaction<Tables>, rule: string): Promise<RouteRecord> {
    let query = trx.selectFrom('routes').select(['rule', 'name', 'doc', 'hidden']).where('rule', '=', rule)
    if (this.flavour.updateLock !== null) query = query.modifyEnd(sql.raw(this.flavour.updateLock))
    return toRouteRecord(await query.executeTakeFirstOrThrow())
  }

  async #deleteHistory(trx: Transaction<Tables>, rule: string): Promise<void> {
    await trx.deleteFrom('minutes').where('rule', '=', rule).execute()
    await trx.deleteFrom('days').where('rule', '=', rule).execute()
  }

  /** One multi-row INSERT that adds each row's counters to the row with the same key. */
  async #upsertCounts(
    trx: Transaction<Tables>,
    table: 'minutes' | 'days',
    key: readonly ['rule', 'minute' | 'day'],
    rows: ReadonlyArray<Record<string, string | number>>,
  ): Promise<void> {
    const insert = trx.insertInto(table).values(rows as never)
    const counters = ['success', 'failure', 'ignored', 'duration_ms'] as const
    if (this.flavour.upsert === 'on-conflict') {
      const added = Object.fromEntries(
        counters.map((c) => [c, sql`${sql.ref(`${table}.${c}`)} + ${sql.ref(`excluded.${c}`)}`]),
      )
      await insert.onConflict((oc) => oc.columns(key as never).doUpdateSet(added as never)).execute()
    } else {
      const added = Object.fromEntries(counters.map((c) => [c, sql`${sql.ref(c)} + values(${sql.ref(c)})`]))
      await insert.onDuplicateKeyUpdate(added as never).execute()
    }
  }
}

/** The migrations, in code; names sort in the order they run. Never edit one that shipped. */
function migrations(prefix: string, flavour: SqlFlavour): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<any>): Promise<void> {
        const options = flavour.binaryCollation ? sql.raw(await mysqlTableOptions(db)) : sql``
        const counters = (table: CreateTableBuilder<string, string>) =>
          table
            .addColumn('success', 'bigint', (col) => col.notNull().defaultTo(0))
            .addColumn('failure', 'bigint', (col) => col.notNull().defaultTo(0))
            .addColumn('ignored', 'bigint', (col) => col.notNull().defaultTo(0))
            .addColumn('duration_ms', 'double precision', (col) => col.notNull().defaultTo(0))

        await db.schema
          .createTable(`${prefix}routes`)
          .ifNotExists()
          .addColumn('rule', 'varchar(512)', (col) => col.primaryKey())
          .addColumn('name', 'varchar(200)')
          .addColumn('doc', 'text')
          .addColumn('hidden', 'integer', (col) => col.notNull().defaultTo(0))
          .addColumn('created_at', 'varchar(32)', (col) => col.notNull())
          .modifyEnd(options)
          .execute()

        await db.schema
          .createTable(`${prefix}minutes`)
          .ifNotExists()
          .addColumn('rule', 'varchar(512)', (col) => col.notNull())
          .addColumn('minute', 'bigint', (col) => col.notNull())
          .addPrimaryKeyConstraint(`${prefix}minutes_pk`, ['rule', 'minute'])
          .$call(counters)
          .modifyEnd(options)
          .execute()
        await db.schema.createIndex(`${prefix}minutes_minute_idx`).on(`${prefix}minutes`).column('minute').execute()

        await db.schema
          .createTable(`${prefix}days`)
          .ifNotExists()
          .addColumn('rule', 'varchar(512)', (col) => col.notNull())
          .addColumn('day', 'char(10)', (col) => col.notNull())
          .addPrimaryKeyConstraint(`${prefix}days_pk`, ['rule', 'day'])
          .$call(counters)
          .modifyEnd(options)
          .execute()
        await db.schema.createIndex(`${prefix}days_day_idx`).on(`${prefix}days`).column('day').execute()
      },
    },
    '0002_batches': {
      async up(db: Kysely<any>): Promise<void> {
        const options = flavour.binaryCollation ? sql.raw(await mysqlTableOptions(db)) : sql``
        // ids of the batches written, so that a retried batch is recognised; pruned with minute rows
        await db.schema
          .createTable(`${prefix}batches`)
          .ifNotExists()
          .addColumn('id', 'varchar(64)', (col) => col.primaryKey())
          .addColumn('minute', 'bigint', (col) => col.notNull())
          .modifyEnd(options)
          .execute()
      },
    }
  }
}

/** utf8mb4 with a binary collation that also keeps trailing spaces apart where the server has one. */
async function mysqlTableOptions(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ version: string }>`select version() as version`.execute(db)
  const version = rows[0]?.version ?? ''
  const major = Number.parseInt(version, 10)
  const collation = /mariadb/i.test(version) ? 'utf8mb4_nopad_bin' : major >= 8 ? 'utf8mb4_0900_bin' : 'utf8mb4_bin'
  return ` character set utf8mb4 collate ${collation}`
}

/**
 * Adds the table prefix to the tables that queries name without it (`routes` →
 * `server_status_routes`), wherever they appear: FROM, INTO, column references.
 */
class TablePrefixPlugin implements KyselyPlugin {
  readonly #transformer: TablePrefixTransformer

  constructor(prefix: string) {
    this.#transformer = new TablePrefixTransformer(prefix, new Set(['routes', 'minutes', 'days', 'batches']))
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId)
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result
  }
}

class TablePrefixTransformer extends OperationNodeTransformer {
  readonly #prefix: string
  readonly #names: ReadonlySet<string>

  constructor(prefix: string, names: ReadonlySet<string>) {
    super()
    this.#prefix = prefix
    this.#names = names
  }

  protected override transformTable(node: TableNode, queryId?: QueryId): TableNode {
    const transformed = super.transformTable(node, queryId)
    const { schema, identifier } = transformed.table
    // `excluded` and any other table not named here are left alone
    if (schema !== undefined || !this.#names.has(identifier.name)) return transformed
    return {
      ...transformed,
      table: { ...transformed.table, identifier: { ...identifier, name: this.#prefix + identifier.name } },
    }
  }
}

interface Aggregate {
  rule: string
  key: string | number
  success: number
  failure: number
  ignored: number
  durationMs: number
}

/**
 * Sums the counts per (rule, key), sorted by rule then key: PostgreSQL refuses a statement
 * that touches one row twice, and one lock order for every writer avoids deadlocks.
 */
function aggregate(counts: readonly MinuteCounts[], keyOf: (c: MinuteCounts) => string | number): Aggregate[] {
  const byKey = new Map<string, Aggregate>()
  for (const c of counts) {
    const key = keyOf(c)
    const id = `${c.rule}\u0000${key}`
    const row = byKey.get(id)
    if (row === undefined) {
      byKey.set(id, { rule: c.rule, key, success: c.success, failure: c.failure, ignored: c.ignored, durationMs: c.durationMs })
    } else {
      row.success += c.success
      row.failure += c.failure
      row.ignored += c.ignored
      row.durationMs += c.durationMs
    }
  }
  return [...byKey.values()].sort((a, b) => compare(a.rule, b.rule) || compare(a.key, b.key))
}

function countColumns(row: Aggregate): { success: number; failure: number; ignored: number; duration_ms: number } {
  return { success: row.success, failure: row.failure, ignored: row.ignored, duration_ms: row.durationMs }
}

/** Counters as JS numbers: pg returns bigint as a string, mysql2 may too. */
function countsOf(row: { success: number | string; failure: number | string; ignored: number | string; duration_ms: number | string }) {
  return {
    success: Number(row.success),
    failure: Number(row.failure),
    ignored: Number(row.ignored),
    durationMs: Number(row.duration_ms),
  }
}

function toRouteRecord(row: { rule: string; name: string | null; doc: string | null; hidden: number }): RouteRecord {
  return { rule: row.rule, name: row.name, doc: row.doc, hidden: Number(row.hidden) !== 0 }
}

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += CHUNK_SIZE) yield items.slice(i, i + CHUNK_SIZE)
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, attempt * 25 + Math.random() * 50))
}

/**
 * Loads a driver that is an optional peer dependency.
 *
 * @throws Error with `message` when the package is not installed.
 * @example const pg = await importDriver<PgModule>('pg', 'install pg to use postgres:// URLs')
 */
export async function importDriver<T>(specifier: string, message: string): Promise<T> {
  let module: { default?: T } & T
  try {
    module = (await import(specifier)) as { default?: T } & T
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(`server-status: ${message} (npm install ${specifier})`, { cause: error })
    }
    throw error
  }
  // CommonJS packages come as `{ default: module.exports }` through import()
  return module.default ?? module
}
