// Builds a KyselyStore on MySQL or MariaDB through a small mysql2 pool; mysql2 is an optional peer dependency.

import { Kysely, MysqlDialect, type MysqlPool } from 'kysely'
import { importDriver, KyselyStore, type SqlFlavour, type StoreOptions } from './kysely-store.js'

/** MySQL's and MariaDB's flags. */
export const MYSQL: SqlFlavour = {
  name: 'mysql',
  upsert: 'on-duplicate-key',
  // MariaDB has no FOR SHARE; MySQL 8 still takes the older spelling
  shareLock: 'lock in share mode',
  updateLock: 'for update',
  binaryCollation: true,
  transientErrorCodes: new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']),
}

/** Connections per store: counts are written once a minute, reads are few. */
export const MYSQL_POOL_SIZE = 5

/** The part of the mysql2 module (callback API) that we use. */
export interface Mysql2Module {
  createPool(config: { uri: string; connectionLimit: number }): MysqlPool
}

/**
 * Connects to MySQL or MariaDB. Parameters of the URL (`?ssl={…}`, `?connectTimeout=5000`) are read by mysql2.
 *
 * @throws Error "install mysql2 to use mysql:// URLs" when mysql2 is not installed.
 * @example
 * const store = await createMysqlStore('mysql://app:secret@db:3306/status', { tablePrefix: 'server_status_' })
 */
export async function createMysqlStore(uri: string, options: StoreOptions): Promise<KyselyStore> {
  const mysql = await importDriver<Mysql2Module>('mysql2', 'install mysql2 to use mysql:// URLs')
  const pool = mysql.createPool({ uri, connectionLimit: MYSQL_POOL_SIZE })
  const db = new Kysely<any>({ dialect: new MysqlDialect({ pool }), log: options.log })
  return new KyselyStore({ db, flavour: MYSQL, tablePrefix: options.tablePrefix })
}
