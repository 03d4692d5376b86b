// Builds a KyselyStore on PostgreSQL through a small pg pool; pg is an optional peer dependency.

import { Kysely, PostgresDialect, type PostgresPool } from 'kysely'
import { importDriver, KyselyStore, type SqlFlavour, type StoreOptions } from './kysely-store.js'

/** PostgreSQL's flags. */
export const POSTGRES: SqlFlavour = {
  name: 'postgres',
  upsert: 'on-conflict',
  shareLock: 'for share',
  updateLock: 'for update',
  binaryCollation: false,
  // deadlock_detected, serialization_failure
  transientErrorCodes: new Set(['40P01', '40001']),
}

/** Connections per store: counts are written once a minute, reads are few. */
export const POSTGRES_POOL_SIZE = 5

/** The part of pg's Pool that we use. */
export interface PgPool extends PostgresPool {
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'connect', listener: (client: { on(event: 'error', listener: (error: Error) => void): unknown }) => void): unknown
}

/** The part of the pg module that we use. */
export interface PgModule {
  Pool: new (config: { connectionString: string; max: number; connectionTimeoutMillis: number; query_timeout: number }) => PgPool
}

/**
 * Connects to PostgreSQL. Parameters of the URL (`sslmode`, `application_name`, …) are read by pg.
 *
 * @throws Error "install pg to use postgres:// URLs" when pg is not installed.
 * @example
 * const store = await createPostgresStore('postgres://app:secret@db:5432/status', { tablePrefix: 'server_status_' })
 */
export async function createPostgresStore(connectionString: string, options: StoreOptions): Promise<KyselyStore> {
  const pg = await importDriver<PgModule>('pg', 'install pg to use postgres:// URLs')
  // a database that stops answering fails the write after a while instead of holding it for
  // ever; the batch is then retried whole, and its id keeps it from counting twice
  const pool = new pg.Pool({ connectionString, max: POSTGRES_POOL_SIZE, connectionTimeoutMillis: 10_000, query_timeout: 30_000 })
  // an idle connection that breaks (server restart) must not crash the app; the next query reports it
  pool.on('error', () => {})
  // pg leaves a checked-out client without an 'error' listener: a connection dropped mid-query
  // would be an uncaught exception in the host app. The query itself still rejects.
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }), log: options.log })
  return new KyselyStore({ db, flavour: POSTGRES, tablePrefix: options.tablePrefix })
}
