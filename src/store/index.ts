// Picks the store for a database URL.

import type { KyselyStore, StoreOptions } from './kysely-store.js'
import { createMysqlStore } from './mysql-store.js'
import { createPostgresStore } from './postgres-store.js'
import { createSqliteStore } from './sqlite-store.js'
import { parseDatabaseUrl } from './url.js'

export { KyselyStore, SCHEMA_VERSION, type SqlFlavour, type StoreOptions } from './kysely-store.js'
export { parseDatabaseUrl, type DatabaseLocation } from './url.js'

/**
 * Creates the store for a database URL; call `init()` before using it. Only the driver that
 * the URL needs is loaded (pg and mysql2 are optional).
 *
 * @throws Error for a malformed URL, or when pg / mysql2 is not installed for its URL.
 * @example
 * const store = await createStore('sqlite:///data/status.db', { tablePrefix: 'server_status_' })
 * await store.init()
 */
export async function createStore(url: string, options: StoreOptions): Promise<KyselyStore> {
  const location = parseDatabaseUrl(url)
  switch (location.kind) {
    case 'sqlite':
      return createSqliteStore(location.filename, options)
    case 'postgres':
      return createPostgresStore(location.connectionString, options)
    case 'mysql':
      return createMysqlStore(location.uri, options)
  }
}
