// One conformance suite for the stores, run against real SQLite, PostgreSQL and MariaDB databases.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, KyselyStore, parseDatabaseUrl, SCHEMA_VERSION } from '../src/store/index.js'
import { CHUNK_SIZE, importDriver } from '../src/store/kysely-store.js'
import type { MinuteCounts } from '../src/types.js'

const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL_ADMIN_URL = 'mysql://root@127.0.0.1:3306/test'

/** Raw access to the database under test, for what a store does not show. */
interface Admin {
  /** Runs SQL (names unquoted, no parameters) and returns its rows. */
  query(statement: string): Promise<Record<string, unknown>[]>
  /** Names of the tables in the database. */
  tables(): Promise<string[]>
  close(): Promise<void>
}

/** A fresh, empty database, dropped again by `drop()`. */
interface TestDatabase {
  url: string
  admin: Admin
  drop(): Promise<void>
}

interface Dialect {
  name: 'sqlite' | 'postgres' | 'mysql'
  create(): Promise<TestDatabase>
}

const DIALECTS: Dialect[] = [
  {
    name: 'sqlite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'ss-test-'))
      const filename = join(dir, 'nested', 'status.db')
      const url = `sqlite:///${filename}` // an absolute path: four slashes
      let db: Database.Database | undefined
      const open = () => (db ??= new Database(filename))
      return {
        url,
        admin: {
          async query(statement) {
            const prepared = open().prepare(statement)
            if (prepared.reader) return prepared.all() as Record<string, unknown>[]
            prepared.run()
            return []
          },
          async tables() {
            const rows = open().prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]
            return rows.map((row) => row.name)
          },
          async close() {
            db?.close()
            db = undefined
          },
        },
        async drop() {
          db?.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  },
  {
    name: 'postgres',
    async create() {
      const name = `ss_test_${randomBytes(6).toString('hex')}`
      const server = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
      await server.connect().catch((error: unknown) => {
        throw new Error(`PostgreSQL at ${POSTGRES_ADMIN_URL} is needed for these tests: ${String(error)}`)
      })
      await server.query(`create database ${name}`)
      const url = `postgres://postgres@127.0.0.1:5432/${name}`
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      return {
        url,
        admin: {
          async query(statement) {
            return (await client.query(statement)).rows
          },
          async tables() {
            const { rows } = await client.query<{ name: string }>(
              "select table_name as name from information_schema.tables where table_schema = 'public'",
            )
            return rows.map((row) => row.name)
          },
          async close() {},
        },
        async drop() {
          await client.end()
          await server.query(`drop database if exists ${name} with (force)`)
          await server.end()
        },
      }
    },
  },
  {
    name: 'mysql',
    async create() {
      const name = `ss_test_${randomBytes(6).toString('hex')}`
      const server = await mysql.createConnection({ uri: MYSQL_ADMIN_URL }).catch((error: unknown) => {
        throw new Error(`MariaDB/MySQL at ${MYSQL_ADMIN_URL} is needed for these tests: ${String(error)}`)
      })
      await server.query(`create database ${name}`)
      const url = `mysql://root@127.0.0.1:3306/${name}`
      const client = await mysql.createConnection({ uri: url })
      return {
        url,
        admin: {
          async query(statement) {
            const [rows] = await client.query(statement)
            return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []
          },
          async tables() {
            const [rows] = await client.query(
              'select table_name as name from information_schema.tables where table_schema = database()',
            )
            return (rows as { name: string }[]).map((row) => row.name)
          },
          async close() {},
        },
        async drop() {
          await client.end()
          await server.query(`drop database if exists ${name}`)
          await server.end()
        },
      }
    },
  },
]

/** Counts of one route in one minute; the day follows from the minute (UTC). */
function counts(rule: string, minute: number, success = 1, failure = 0, ignored = 0, durationMs = 10): MinuteCounts {
  return { rule, minute, day: dayOf(minute), success, failure, ignored, durationMs }
}

function dayOf(minute: number): string {
  return new Date(minute * 60_000).toISOString().slice(0, 10)
}

/** 2025-03-10T00:00Z in minutes since the epoch. */
const MINUTE = Date.UTC(2025, 2, 10) / 60_000
const DAY = dayOf(MINUTE)

function uniquePrefix(): string {
  return `t${randomBytes(3).toString('hex')}_`
}

for (const dialect of DIALECTS) {
  describe(`${dialect.name} store`, () => {
    let database: TestDatabase
    const opened: KyselyStore[] = []

    /** A store on the test database, initialised, closed after the suite. */
    async function open(tablePrefix = 'server_status_', log?: (sql: string) => void): Promise<KyselyStore> {
      const store = await createStore(database.url, {
        tablePrefix,
        log: log && ((event) => void (event.level === 'query' && log(event.query.sql))),
      })
      opened.push(store)
      await store.init()
      return store
    }

    beforeAll(async () => {
      database = await dialect.create()
    })

    afterAll(async () => {
      await Promise.allSettled(opened.map((store) => store.close()))
      await database?.admin.close()
      await database?.drop()
    })

    it('creates its tables on init and records the schema version', async () => {
      const prefix = uniquePrefix()
      const store = await open(prefix)
      expect(store.flavour.name).toBe(dialect.name)
      expect(await store.schemaVersion()).toBe(SCHEMA_VERSION)
      const tables = (await database.admin.tables()).filter((name) => name.startsWith(prefix)).sort()
      expect(tables).toEqual(['batches', 'days', 'migration', 'migration_lock', 'minutes', 'routes'].map((t) => prefix + t))
      const versions = await database.admin.query(`select name from ${prefix}migration order by name`)
      expect(versions.map((row) => row.name)).toEqual(['0001_initial', SCHEMA_VERSION])
    })

    it('inits twice, and concurrently from four stores on one database', async () => {
      const prefix = uniquePrefix()
      const first = await open(prefix)
      await first.init()
      const stores = await Promise.all([1, 2, 3, 4].map(() => createStore(database.url, { tablePrefix: `${prefix}c_` })))
      opened.push(...stores)
      await Promise.all(stores.map((store) => store.init()))
      for (const store of stores) expect(await store.schemaVersion()).toBe(SCHEMA_VERSION)
      // each migration ran once, however many stores raced to run it
      const versions = await database.admin.query(`select name from ${prefix}c_migration order by name`)
      expect(versions.map((row) => row.name)).toEqual(['0001_initial', SCHEMA_VERSION])
      await stores[0]!.write([counts('/', MINUTE)])
      expect(await stores[3]!.readMinutes(0)).toHaveLength(1)
    })

    it('reports no schema version before init', async () => {
      const store = await createStore(database.url, { tablePrefix: uniquePrefix() })
      opened.push(store)
      expect(await store.schemaVersion()).toBeNull()
    })

    it('registers routes idempotently, also concurrently, keeping known ones as they are', async () => {
      const prefix = uniquePrefix()
      const store = await open(prefix)
      await store.registerRoutes(['/', '', '/users/:id'])
      await store.updateRoute('/', { name: 'Index', doc: 'Welcome' })
      await store.registerRoutes(['/', '', '/users/:id', '/users/:id'])
      const others = await Promise.all([1, 2, 3, 4].map(() => open(prefix)))
      await Promise.all(others.map((other, i) => other.registerRoutes(['/', `/r${i}`, '/shared', '/shared2'])))
      expect(await store.listRoutes()).toEqual([
        { rule: '', name: null, doc: null, hidden: false },
        { rule: '/', name: 'Index', doc: 'Welcome', hidden: false },
        ...['/r0', '/r1', '/r2', '/r3', '/shared', '/shared2', '/users/:id'].map((rule) => ({
          rule,
          name: null,
          doc: null,
          hidden: false,
        })),
      ])
      await store.registerRoutes([])
    })

    it('adds counts to minute and day rows, never overwriting them', async () => {
      const store = await open(uniquePrefix())
      await store.write([counts('/', MINUTE, 2, 1, 1, 30.5), counts('/', MINUTE + 1, 1, 0, 0, 5)])
      await store.write([counts('/', MINUTE, 3, 0, 2, 10.25)])
      expect(await store.readMinutes(0)).toEqual([
        { rule: '/', minute: MINUTE, success: 5, failure: 1, ignored: 3, durationMs: 40.75 },
        { rule: '/', minute: MINUTE + 1, success: 1, failure: 0, ignored: 0, durationMs: 5 },
      ])
      expect(await store.readDays('0000-00-00')).toEqual([
        { rule: '/', day: DAY, success: 6, failure: 1, ignored: 3, durationMs: 45.75 },
      ])
      // the same key twice in one batch is summed too
      await store.write([counts('/', MINUTE, 1), counts('/', MINUTE, 1)])
      expect((await store.readMinutes(MINUTE)).find((row) => row.minute === MINUTE)?.success).toBe(7)
      await store.write([])
    })

    it('writes the unmatched pseudo-route "" like any other rule', async () => {
      const store = await open(uniquePrefix())
      await store.registerRoutes([''])
      await store.write([counts('', MINUTE, 0, 4)])
      await store.write([counts('', MINUTE, 0, 2)])
      expect(await store.readDays(DAY)).toEqual([{ rule: '', day: DAY, success: 0, failure: 6, ignored: 0, durationMs: 20 }])
    })

    it('adds rules it has not seen to the routes when writing', async () => {
      const store = await open(uniquePrefix())
      await store.updateRoute('/named', { name: 'Named' })
      await store.write([counts('/new', MINUTE), counts('/named', MINUTE)])
      expect(await store.listRoutes()).toEqual([
        { rule: '/named', name: 'Named', doc: null, hidden: false },
        { rule: '/new', name: null, doc: null, hidden: false },
      ])
    })

    it('writes 1,000 route-minutes with one statement per table per chunk', async () => {
      const statements: string[] = []
      const store = await open(uniquePrefix(), (sql) => statements.push(sql))
      const batch: MinuteCounts[] = []
      for (let r = 0; r < 10; r++) for (let m = 0; m < 100; m++) batch.push(counts(`/r${r}`, MINUTE + m))
      statements.length = 0
      await store.write(batch)
      const inserts = (table: string) => statements.filter((s) => new RegExp(`^insert into .${store.tablePrefix}${table}.`, 'i').test(s))
      expect(inserts('minutes')).toHaveLength(Math.ceil(1000 / CHUNK_SIZE))
      expect(inserts('days')).toHaveLength(1)
      expect(inserts('routes')).toHaveLength(1)
      expect(statements.length).toBeLessThanOrEqual(8)
      const minutes = await store.readMinutes(0)
      expect(minutes).toHaveLength(1000)
      expect(await store.readDays(DAY)).toHaveLength(10)
      expect((await store.readDays(DAY)).every((row) => row.success === 100)).toBe(true)
    })

    it('counts exactly with 8 stores writing 50 batches each at once', async () => {
      const prefix = uniquePrefix()
      const writers = await Promise.all(Array.from({ length: 8 }, () => open(prefix)))
      const rules = ['/', '/a', '/b', '']
      await Promise.all(
        writers.map(async (writer, w) => {
          for (let batch = 0; batch < 50; batch++) {
            // each writer lists the rules in another order: the store must sort to avoid deadlocks
            const order = w % 2 === 0 ? rules : [...rules].reverse()
            await writer.write(order.flatMap((rule) => [counts(rule, MINUTE, 1, 0, 0, 1), counts(rule, MINUTE + 1, 0, 1, 1, 2)]))
          }
        }),
      )
      const minutes = await writers[0]!.readMinutes(0)
      expect(minutes).toHaveLength(8)
      for (const row of minutes) {
        if (row.minute === MINUTE) expect(row).toMatchObject({ success: 400, failure: 0, ignored: 0, durationMs: 400 })
        else expect(row).toMatchObject({ success: 0, failure: 400, ignored: 400, durationMs: 800 })
      }
      const days = await writers[0]!.readDays(DAY)
      expect(days.map((row) => [row.rule, row.success, row.failure, row.ignored, row.durationMs])).toEqual(
        [...rules].sort().map((rule) => [rule, 400, 400, 400, 1200]),
      )
    })

    it('counts exactly with 3 processes writing at once', async () => {
      const prefix = uniquePrefix()
      await open(prefix)
      const script = `
        import { createStore } from ${JSON.stringify(fileURLToPath(new URL('../src/store/index.ts', import.meta.url)))}
        const store = await createStore(process.env.SS_URL, { tablePrefix: process.env.SS_PREFIX })
        await store.init()
        for (let i = 0; i < 40; i++) {
          await store.write([
            { rule: '/', minute: ${MINUTE}, day: '${DAY}', success: 1, failure: 0, ignored: 0, durationMs: 1 },
            { rule: '/x', minute: ${MINUTE}, day: '${DAY}', success: 0, failure: 1, ignored: 0, durationMs: 1 },
          ])
        }
        await store.close()
      `
      const run = promisify(execFile)
      await Promise.all(
        [1, 2, 3].map(() =>
          run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
            env: { ...process.env, SS_URL: database.url, SS_PREFIX: prefix },
          }),
        ),
      )
      const store = await open(prefix)
      expect(await store.readDays(DAY)).toEqual([
        { rule: '/', day: DAY, success: 120, failure: 0, ignored: 0, durationMs: 120 },
        { rule: '/x', day: DAY, success: 0, failure: 120, ignored: 0, durationMs: 120 },
      ])
    })

    it('drops the counts of a hidden route', async () => {
      const store = await open(uniquePrefix())
      await store.write([counts('/gone', MINUTE), counts('/kept', MINUTE)])
      await store.deleteRoute('/gone')
      await store.write([counts('/gone', MINUTE + 1), counts('/kept', MINUTE + 1)])
      await store.write([counts('/gone', MINUTE + 2)])
      expect((await store.readMinutes(0)).map((row) => `${row.rule}@${row.minute - MINUTE}`)).toEqual(['/kept@0', '/kept@1'])
      expect((await store.readDays(DAY)).map((row) => row.rule)).toEqual(['/kept'])
    })

    it('updateRoute keeps fields left undefined, and shows a hidden route again with no history', async () => {
      const store = await open(uniquePrefix())
      expect(await store.updateRoute('/u', { name: 'Users' })).toEqual({ rule: '/u', name: 'Users', doc: null, hidden: false })
      expect(await store.updateRoute('/u', { doc: 'All of them' })).toEqual({
        rule: '/u',
        name: 'Users',
        doc: 'All of them',
        hidden: false,
      })
      expect(await store.updateRoute('/u', {})).toEqual({ rule: '/u', name: 'Users', doc: 'All of them', hidden: false })
      await store.write([counts('/u', MINUTE)])
      await store.deleteRoute('/u')
      expect(await store.updateRoute('/u', { name: 'Back' })).toEqual({ rule: '/u', name: 'Back', doc: 'All of them', hidden: false })
      expect(await store.readMinutes(0)).toEqual([])
      expect(await store.readDays('0000-00-00')).toEqual([])
      await store.write([counts('/u', MINUTE, 2)])
      expect(await store.readDays(DAY)).toEqual([{ rule: '/u', day: DAY, success: 2, failure: 0, ignored: 0, durationMs: 10 }])
      expect(await store.listRoutes()).toEqual([{ rule: '/u', name: 'Back', doc: 'All of them', hidden: false }])
    })

    it('deleteRoute removes minute and day rows and hides the route, also for a new store', async () => {
      const prefix = uniquePrefix()
      const store = await open(prefix)
      await store.write([counts('/d', MINUTE), counts('/d', MINUTE + 1440), counts('/e', MINUTE)])
      await store.deleteRoute('/d')
      await store.deleteRoute('/d')
      await store.close()
      const again = await open(prefix)
      expect(await again.listRoutes()).toEqual([
        { rule: '/d', name: null, doc: null, hidden: true },
        { rule: '/e', name: null, doc: null, hidden: false },
      ])
      expect((await again.readMinutes(0)).map((row) => row.rule)).toEqual(['/e'])
      expect((await again.readDays('0000-00-00')).map((row) => row.rule)).toEqual(['/e'])
      // registering it again (a restart) does not show it
      await again.registerRoutes(['/d'])
      expect((await again.listRoutes())[0]).toEqual({ rule: '/d', name: null, doc: null, hidden: true })
    })

    it('reads day and minute rows from the given day and minute on', async () => {
      const store = await open(uniquePrefix())
      await store.write([0, 1, 2].flatMap((d) => [counts('/a', MINUTE + d * 1440), counts('/b', MINUTE + d * 1440 + 5)]))
      expect((await store.readMinutes(MINUTE + 1440)).map((row) => [row.rule, row.minute - MINUTE])).toEqual([
        ['/a', 1440],
        ['/a', 2880],
        ['/b', 1445],
        ['/b', 2885],
      ])
      expect((await store.readMinutes(MINUTE + 1441)).map((row) => row.minute - MINUTE)).toEqual([2880, 1445, 2885])
      expect((await store.readDays(dayOf(MINUTE + 1440))).map((row) => [row.rule, row.day])).toEqual([
        ['/a', '2025-03-11'],
        ['/a', '2025-03-12'],
        ['/b', '2025-03-11'],
        ['/b', '2025-03-12'],
      ])
      expect(await store.readDays('2025-03-13')).toEqual([])
    })

    it('prunes old rows, idempotently', async () => {
      const store = await open(uniquePrefix())
      await store.write([0, 1, 2].map((d) => counts('/', MINUTE + d * 1440)))
      await store.prune(MINUTE + 1440, '2025-03-12')
      await store.prune(MINUTE + 1440, '2025-03-12')
      expect((await store.readMinutes(0)).map((row) => row.minute - MINUTE)).toEqual([1440, 2880])
      expect((await store.readDays('0000-00-00')).map((row) => row.day)).toEqual(['2025-03-12'])
      expect(await store.listRoutes()).toHaveLength(1)
    })

    it('keeps two table prefixes on one database apart', async () => {
      const one = await open('app_one_')
      const two = await open('app_two_')
      await one.write([counts('/one', MINUTE, 1)])
      await two.write([counts('/two', MINUTE, 2)])
      await one.deleteRoute('/shared')
      await two.updateRoute('/shared', { name: 'Two' })
      expect((await one.readMinutes(0)).map((row) => row.rule)).toEqual(['/one'])
      expect((await two.readDays(DAY)).map((row) => [row.rule, row.success])).toEqual([['/two', 2]])
      expect(await one.listRoutes()).toEqual([
        { rule: '/one', name: null, doc: null, hidden: false },
        { rule: '/shared', name: null, doc: null, hidden: true },
      ])
      expect((await two.listRoutes()).map((row) => [row.rule, row.name, row.hidden])).toEqual([
        ['/shared', 'Two', false],
        ['/two', null, false],
      ])
    })

    it('stores rules, names and docs verbatim: quotes, unicode, %, SQL, case, spaces', async () => {
      const store = await open(uniquePrefix())
      const rules = [
        "/it's",
        '/"quoted"',
        '/back\\slash',
        '/100%_done',
        "/'; DROP TABLE server_status_routes; --",
        '/ünïcödé/日本/😀',
        '/A',
        '/a',
        '/a ',
        '/tab\there',
        '',
      ]
      await store.registerRoutes(rules)
      await store.write(rules.map((rule, i) => counts(rule, MINUTE, i + 1)))
      await store.write(rules.map((rule, i) => counts(rule, MINUTE, i + 1)))
      const byRule = new Map((await store.readMinutes(0)).map((row) => [row.rule, row.success]))
      expect(byRule.size).toBe(rules.length)
      rules.forEach((rule, i) => expect(byRule.get(rule), JSON.stringify(rule)).toBe(2 * (i + 1)))
      expect((await store.listRoutes()).map((row) => row.rule).sort()).toEqual([...rules].sort())
      const name = "Robert'); DROP TABLE routes;-- ✓ 100%"
      expect(await store.updateRoute('/a ', { name, doc: '"doc" \\ 😀' })).toMatchObject({ name, doc: '"doc" \\ 😀' })
      const records = await store.listRoutes()
      expect(records.find((row) => row.rule === '/a ')).toEqual({ rule: '/a ', name, doc: '"doc" \\ 😀', hidden: false })
      expect(records.find((row) => row.rule === '/a')?.name).toBeNull()
      await store.deleteRoute('/%')
      expect((await store.readMinutes(0)).length).toBe(rules.length)
    })

    it('leaves nothing behind when the database rejects a write half-way, so a retry counts once', async () => {
      const store = await open(uniquePrefix())
      const good = Array.from({ length: CHUNK_SIZE + 100 }, (_, i) => counts(`/r${String(i).padStart(4, '0')}`, MINUTE))
      // the last row, in the second chunk of minute rows, is one the database refuses
      const bad = good.map((row, i) => (i === good.length - 1 ? { ...row, success: Number.NaN } : row))
      await expect(store.write(bad)).rejects.toThrow()
      expect(await store.readMinutes(0)).toEqual([])
      expect(await store.readDays('0000-00-00')).toEqual([])
      expect(await store.listRoutes()).toEqual([])
      await store.write(good)
      const minutes = await store.readMinutes(0)
      expect(minutes).toHaveLength(good.length)
      expect(minutes.every((row) => row.success === 1)).toBe(true)
    })

    it('leaves nothing behind when the day rows cannot be written after the minute rows were', async () => {
      const prefix = uniquePrefix()
      const store = await open(prefix)
      await store.write([counts('/', MINUTE)])
      // without its day table the second statement of a write fails after the first succeeded
      await database.admin.query(`alter table ${prefix}days rename to ${prefix}days_away`)
      try {
        await expect(store.write([counts('/', MINUTE, 5), counts('/new', MINUTE, 5)])).rejects.toThrow()
      } finally {
        await database.admin.query(`alter table ${prefix}days_away rename to ${prefix}days`)
      }
      expect(await store.readMinutes(0)).toEqual([{ rule: '/', minute: MINUTE, success: 1, failure: 0, ignored: 0, durationMs: 10 }])
      expect((await store.listRoutes()).map((row) => row.rule)).toEqual(['/'])
      await store.write([counts('/', MINUTE, 5)])
      expect((await store.readDays(DAY))[0]?.success).toBe(6)
    })

    it('adds a batch once however often it is retried with the same id', async () => {
      const store = await open(uniquePrefix())
      const batch = [counts('/', MINUTE, 2, 1), counts('/b', MINUTE, 1)]
      await store.write(batch, 'batch-1')
      // the reply of the first write was lost: the same batch comes again
      await store.write(batch, 'batch-1')
      await store.write(batch, 'batch-2')
      expect((await store.readMinutes(0)).map((row) => [row.rule, row.success, row.failure])).toEqual([
        ['/', 4, 2],
        ['/b', 2, 0],
      ])
      expect((await store.readDays(DAY)).map((row) => [row.rule, row.success])).toEqual([
        ['/', 4],
        ['/b', 2],
      ])
      // batch ids are pruned with the minute rows, and pruning keeps newer ones
      await store.prune(0, '0000-00-00')
      await store.write(batch, 'batch-2')
      expect((await store.readMinutes(0))[0]!.success).toBe(4)
    })

    it('closes safely twice', async () => {
      const store = await createStore(database.url, { tablePrefix: uniquePrefix() })
      await store.init()
      await store.close()
      await store.close()
    })

    if (dialect.name === 'postgres') {
      it('passes the URL parameters to pg', async () => {
        const application = `ss_app_${randomBytes(3).toString('hex')}`
        const store = await createStore(`${database.url}?application_name=${application}`, { tablePrefix: uniquePrefix() })
        opened.push(store)
        await store.init()
        const rows = await database.admin.query(
          `select count(*)::int as n from pg_stat_activity where application_name = '${application}'`,
        )
        expect(rows[0]?.n).toBeGreaterThan(0)
        await store.close()
        await expect(
          createStore(`${database.url}?sslmode=no-verify`, { tablePrefix: uniquePrefix() }).then((s) =>
            s.init().finally(() => s.close()),
          ),
        ).rejects.toThrow(/SSL/i)
      })
    }

    if (dialect.name === 'mysql') {
      it('accepts mariadb:// URLs and passes their parameters to mysql2', async () => {
        const mariadbUrl = database.url.replace(/^mysql:/, 'mariadb:')
        const store = await createStore(mariadbUrl, { tablePrefix: uniquePrefix() })
        opened.push(store)
        await store.init()
        await store.write([counts('/', MINUTE)])
        expect(await store.readMinutes(0)).toHaveLength(1)
        // this server has no TLS: a connection asked to use it must fail
        await expect(
          createStore(`${mariadbUrl}?ssl=${encodeURIComponent('{}')}`, { tablePrefix: uniquePrefix() }).then((s) =>
            s.init().finally(() => s.close()),
          ),
        ).rejects.toThrow(/secure connection|ssl/i)
      })
    }
  })
}

describe('parseDatabaseUrl', () => {
  it.each([
    ['sqlite:///tmp/status.db', { kind: 'sqlite', filename: 'tmp/status.db' }],
    ['sqlite:////var/lib/app/status.db', { kind: 'sqlite', filename: '/var/lib/app/status.db' }],
    ['sqlite://:memory:', { kind: 'sqlite', filename: ':memory:' }],
    ['SQLite:///status.db', { kind: 'sqlite', filename: 'status.db' }],
    ['sqlite:///my%20data/status%3F.db', { kind: 'sqlite', filename: 'my data/status?.db' }],
    ['postgres://u:p@db:5432/status', { kind: 'postgres', connectionString: 'postgres://u:p@db:5432/status' }],
    [
      'postgresql://u@db/status?sslmode=require&application_name=web',
      { kind: 'postgres', connectionString: 'postgresql://u@db/status?sslmode=require&application_name=web' },
    ],
    ['postgres:///status?host=/var/run/postgresql', { kind: 'postgres', connectionString: 'postgres:///status?host=/var/run/postgresql' }],
    ['mysql://root:pw@db:3306/status', { kind: 'mysql', uri: 'mysql://root:pw@db:3306/status' }],
    ['mariadb://root@db/status?connectTimeout=5000', { kind: 'mysql', uri: 'mysql://root@db/status?connectTimeout=5000' }],
  ])('parses %s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected)
  })

  it.each([
    ['', /empty/],
    ['status.db', /no scheme/],
    ['redis://localhost/0', /unknown scheme "redis:"/],
    ['sqlite://', /empty path/],
    ['sqlite:///', /empty path/],
    ['sqlite:////', /empty file name/],
    ['sqlite://host/status.db', /host "host"/],
    ['sqlite:///status.db?mode=ro', /query/],
    ['sqlite:status.db', /must start with sqlite:\/\//],
    ['postgres://u:secret@/status', /not a valid URL/],
    ['postgres:///status', /no host/],
    ['postgres://u@db', /no database/],
    ['postgres://u@db/', /no database/],
    ['mysql://root@db:3306', /no database/],
    ['mariadb:///status', /no host/],
    ['mysql://root@db/a/b', /more than a database name/],
    ['postgres://u@db:notaport/x', /not a valid URL/],
  ])('refuses %j', (url, message) => {
    expect(() => parseDatabaseUrl(url)).toThrow(message)
  })

  it('does not repeat a password in its errors', () => {
    expect(() => parseDatabaseUrl('postgres://user:hunter2@db')).toThrow(/user:\*\*\*@db/)
    expect(() => parseDatabaseUrl('postgres://user:hunter2@db')).not.toThrow(/hunter2/)
  })
})

describe('createStore', () => {
  it('creates the folders of a sqlite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-test-'))
    try {
      const store = await createStore(`sqlite:///${dir}/a/b/status.db`, { tablePrefix: 'server_status_' })
      await store.init()
      expect(existsSync(join(dir, 'a', 'b', 'status.db'))).toBe(true)
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('keeps an in-memory sqlite database per store', async () => {
    const one = await createStore('sqlite://:memory:', { tablePrefix: 'server_status_' })
    const two = await createStore('sqlite://:memory:', { tablePrefix: 'server_status_' })
    await Promise.all([one.init(), two.init()])
    await one.write([counts('/', MINUTE)])
    expect(await one.readMinutes(0)).toHaveLength(1)
    expect(await two.readMinutes(0)).toEqual([])
    await Promise.all([one.close(), two.close()])
  })

  it('names the package to install when a driver is missing', async () => {
    await expect(importDriver('server-status-no-such-driver', 'install pg to use postgres:// URLs')).rejects.toThrow(
      'install pg to use postgres:// URLs',
    )
  })

  it('refuses a bad URL before loading anything', async () => {
    await expect(createStore('ftp://x/y', { tablePrefix: 'server_status_' })).rejects.toThrow(/unknown scheme "ftp:"/)
  })
})
