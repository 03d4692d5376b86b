// The costs besides the per-request path: page and JSON time, flush time per database, storage size and memory.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { Agent, get as httpGet } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createStore } from '../src/store/index.js'
import { FAILURE, minuteCounts, Recorder, SUCCESS } from '../src/recorder.js'
import { DayClock, addDays } from '../src/time.js'
import type { MinuteCounts, Store } from '../src/types.js'
import { Child } from './children.js'
import type { ServerStats } from './shared.js'
import { median } from './stats.js'

const TABLE_PREFIX = 'server_status_'
const clock = new DayClock('UTC')

/** A directory for the run's SQLite files, removed by `removeScratch()`. */
export const scratch = mkdtempSync(join(tmpdir(), 'server-status-bench-'))

export function removeScratch(): void {
  keepAlive.destroy()
  rmSync(scratch, { recursive: true, force: true })
}

/** `sqlite:` URL of an absolute file path. */
export function sqliteUrl(file: string): string {
  return `sqlite:///${file}`
}

async function openStore(url: string): Promise<Store> {
  const store = await createStore(url, { tablePrefix: TABLE_PREFIX })
  await store.init()
  return store
}

function timeMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6
}

/** GETs `url` and reads the body as bytes, so that the time is the server's answer, not the client's decoding. */
function get(url: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const request = httpGet(url, { agent: keepAlive }, (response) => {
      let bytes = 0
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length
      })
      response.once('error', reject)
      response.once('end', () => {
        const ms = timeMs(start)
        if (response.statusCode !== 200) reject(new Error(`GET ${url} answered ${response.statusCode}`))
        else resolve({ ms, bytes })
      })
    })
    request.once('error', reject)
  })
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 })

/**
 * Fills a SQLite file with `routes` routes (`/r0/:id` …) × `days` days: one minute row per
 * route per day, today's a few minutes ago so that the current status has data too.
 */
export async function seedHistory(file: string, routes: number, days: number): Promise<void> {
  const store = await openStore(sqliteUrl(file))
  try {
    const now = Math.floor(Date.now() / 60_000)
    const today = clock.dayOfMinute(now)
    let batch: MinuteCounts[] = []
    for (let d = days - 1; d >= 0; d--) {
      const day = addDays(today, -d)
      const minute = d === 0 ? now - 5 : Math.floor(Date.parse(`${day}T12:00:00Z`) / 60_000)
      for (let i = 0; i < routes; i++) {
        // a few failing days, so that the page shows every kind of day
        const failure = (i + d) % 13 === 0 ? 40 : (i + d) % 5 === 0 ? 2 : 0
        batch.push({ rule: `/r${i}/:id`, minute, day, success: 120 + ((i * 7 + d) % 50), failure, ignored: d % 3, durationMs: 1500 })
      }
      if (batch.length >= 10_000) {
        await store.write(batch)
        batch = []
      }
    }
    if (batch.length > 0) await store.write(batch)
  } finally {
    await store.close()
  }
}

/** How a view finds the report's rows: the three cases measured. */
export const VIEW_CASES = ['full', 'minute', 'cached'] as const
export type ViewCase = (typeof VIEW_CASES)[number]

/** `flushIntervalMs` of the measured app: a view more than this after the last read reads the recent rows again. */
export const PAGE_FLUSH_INTERVAL_MS = 1_000
/** How long the runner waits before a view of the `minute` case: past one flush interval. */
const MINUTE_WAIT_MS = 1_200

/** Page and JSON time for one size of app. */
export interface PageFigures {
  routes: number
  days: number
  /**
   * ms of `GET /status` per case, the whole HTTP round trip:
   * - `full`: right after an explicit `flush()`, which reads every shown day again;
   * - `minute`: past the flush interval without an explicit flush, which reads today, yesterday and the recent minutes;
   * - `cached`: again at once, from the rows read last.
   */
  page: Record<ViewCase, number>
  /** The same for `GET /status/api/routes`. */
  json: Record<ViewCase, number>
  /** The server's CPU time (user + system, ms) per view of the page and of the JSON, per case: steadier than the round trip on a busy machine. */
  pageCpu: Record<ViewCase, number>
  jsonCpu: Record<ViewCase, number>
  pageBytes: number
  jsonBytes: number
  /** Per case, the `.cpuprofile` files of a few page views, where profiles were asked for. */
  profiles: Record<ViewCase, string[]> | null
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Measures `GET /status` and `GET /status/api/routes` on an app with `routes` routes and seeded
 * history, in the three cases of `VIEW_CASES`. With `profile`, also profiles `profile.views` page
 * views of each case, one `.cpuprofile` per view: the first of each case in `profile.dir`
 * (`status-page-<case>.cpuprofile`), the others in the scratch directory.
 */
export async function measurePages(
  routes: number,
  days: number,
  runs: { warmups: number; repeats: number; profile: { dir: string; views: number } | null },
): Promise<PageFigures> {
  const file = join(scratch, `pages-${routes}.db`)
  await seedHistory(file, routes, days)
  const server = await Child.start('./server.ts', {
    core: 1,
    arg: { variant: 'server-status', extraRoutes: routes, database: sqliteUrl(file), days, flushIntervalMs: PAGE_FLUSH_INTERVAL_MS },
  })
  try {
    const base = `http://127.0.0.1:${(server.info as { port: number }).port}`
    const urls = { page: `${base}/status`, json: `${base}/status/api/routes` }
    // (a) an explicit flush makes the next view read every shown day again
    const full = async () => {
      await get(`${base}/r0/1`)
      await server.call('flush')
    }
    // (b) past the flush interval, the timer has written the request and the next view reads the recent rows
    const minute = async () => {
      await get(`${base}/r0/1`)
      await wait(MINUTE_WAIT_MS)
    }
    const empty = () => ({ page: { full: [], minute: [], cached: [] }, json: { full: [], minute: [], cached: [] } }) as Record<'page' | 'json', Record<ViewCase, number[]>>
    const times = empty()
    const cpus = empty()
    const cpuMs = async () => {
      const { cpu } = await server.call<ServerStats>('stats')
      return (cpu.user + cpu.system) / 1000
    }
    /** A view, its round trip and the server's CPU time over it. */
    const view = async (url: string) => {
      const before = await cpuMs()
      const answer = await get(url)
      return { ...answer, cpu: (await cpuMs()) - before }
    }
    const bytes = { page: 0, json: 0 }
    /** One view after `before`, then (c) one again at once; `record` false for warm-ups. */
    const views = async (kind: 'page' | 'json', which: 'full' | 'minute', record: boolean) => {
      await (which === 'full' ? full() : minute())
      const first = await view(urls[kind])
      const again = await view(urls[kind])
      if (!record) return
      times[kind][which].push(first.ms)
      times[kind].cached.push(again.ms)
      cpus[kind][which].push(first.cpu)
      cpus[kind].cached.push(again.cpu)
      bytes[kind] = first.bytes
    }
    // the first flush prunes old minute rows and the first views compile the code paths
    for (let i = 0; i < runs.warmups; i++) {
      for (const kind of ['page', 'json'] as const) {
        await views(kind, 'full', false)
        await views(kind, 'minute', false)
      }
    }
    for (let i = 0; i < runs.repeats; i++) {
      for (const kind of ['page', 'json'] as const) {
        await views(kind, 'full', true)
        await views(kind, 'minute', true)
      }
    }
    let profiles: Record<ViewCase, string[]> | null = null
    if (runs.profile !== null) {
      profiles = { full: [], minute: [], cached: [] }
      const profiled = async (which: ViewCase, i: number) => {
        const name = `status-page-${which}${i === 0 ? '' : `-${i}`}.cpuprofile`
        const path = join(i === 0 ? runs.profile!.dir : scratch, name)
        await server.call('startProfile')
        await get(urls.page)
        await server.call('stopProfile', path)
        profiles![which].push(path)
      }
      for (let i = 0; i < runs.profile.views; i++) {
        for (const which of ['full', 'minute'] as const) {
          await (which === 'full' ? full() : minute())
          await profiled(which, i)
          await profiled('cached', i * 2 + (which === 'full' ? 0 : 1))
        }
      }
    }
    const medians = (of: Record<ViewCase, number[]>) => Object.fromEntries(VIEW_CASES.map((c) => [c, median(of[c])])) as Record<ViewCase, number>
    return {
      routes,
      days,
      page: medians(times.page),
      json: medians(times.json),
      pageCpu: medians(cpus.page),
      jsonCpu: medians(cpus.json),
      pageBytes: bytes.page,
      jsonBytes: bytes.json,
      profiles,
    }
  } finally {
    await server.stop()
  }
}

/** Memory of an app process with many routes, with and without server-status. */
export interface MemoryFigures {
  routes: number
  bare: NodeJS.MemoryUsage
  /** After one request to every route. */
  monitored: NodeJS.MemoryUsage
  /** After that and two views of the page with 90 days of history. */
  monitoredAfterPage: NodeJS.MemoryUsage
}

/** RSS and heap after a full GC, of a bare app and of one with server-status, both with `routes` routes. */
export async function measureMemory(routes: number, days: number): Promise<MemoryFigures> {
  const file = join(scratch, `memory-${routes}.db`)
  await seedHistory(file, routes, days)
  const visitAll = async (base: string) => {
    for (let i = 0; i < routes; i++) await get(`${base}/r${i}/1`)
    await get(`${base}/users/1`)
  }
  const bareServer = await Child.start('./server.ts', { core: 1, arg: { variant: 'bare', extraRoutes: routes }, execArgv: ['--expose-gc'] })
  let bare: ServerStats
  try {
    await visitAll(`http://127.0.0.1:${(bareServer.info as { port: number }).port}`)
    bare = await bareServer.call<ServerStats>('gc')
  } finally {
    await bareServer.stop()
  }
  const server = await Child.start('./server.ts', {
    core: 1,
    arg: { variant: 'server-status', extraRoutes: routes, database: sqliteUrl(file), days },
    execArgv: ['--expose-gc'],
  })
  try {
    const base = `http://127.0.0.1:${(server.info as { port: number }).port}`
    await visitAll(base)
    const monitored = await server.call<ServerStats>('gc')
    await get(`${base}/status`)
    await get(`${base}/status`)
    const monitoredAfterPage = await server.call<ServerStats>('gc')
    return { routes, bare: bare.memory, monitored: monitored.memory, monitoredAfterPage: monitoredAfterPage.memory }
  } finally {
    await server.stop()
  }
}

/** Flush time of one database. */
export interface FlushFigures {
  store: string
  /** ms of the first flush: new minute rows and new day rows. */
  firstMs: number
  /** Median ms of the following flushes: new minute rows, day rows updated. */
  medianMs: number
  flushes: number
}

/** A database to flush into; `null` url where it could not be created. */
export interface FlushTarget {
  store: string
  url: string | null
  /** Why the database is not measured. */
  skipped?: string
  drop?: () => Promise<void>
}

/** Times flushes of `routes` route-minutes: one request per route per minute, drained and written as the core does. */
export async function measureFlush(target: FlushTarget, routes: number, flushes: number): Promise<FlushFigures> {
  if (target.url === null) throw new Error(`${target.store} is not available`)
  const store = await openStore(target.url)
  try {
    const recorder = new Recorder()
    const first = Math.floor(Date.now() / 60_000) - flushes - 1
    const times: number[] = []
    for (let k = 0; k <= flushes; k++) {
      const now = (first + k) * 60_000 + 30_000
      for (let i = 0; i < routes; i++) recorder.record(`/r${i}/:id`, i % 17 === 0 ? FAILURE : SUCCESS, 2, now)
      const start = process.hrtime.bigint()
      const buckets = recorder.drain()
      await store.write(minuteCounts(buckets, clock))
      times.push(timeMs(start))
    }
    return { store: target.store, firstMs: times[0]!, medianMs: median(times.slice(1)), flushes }
  } finally {
    await store.close()
  }
}

/** A fresh PostgreSQL database on 127.0.0.1, dropped afterwards. */
export async function postgresTarget(): Promise<FlushTarget> {
  const name = `server_status_bench_${process.pid}`
  try {
    const pg = (await import('pg')).default
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', connectionTimeoutMillis: 3000 })
    await admin.connect()
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`)
      await admin.query(`CREATE DATABASE ${name}`)
    } finally {
      await admin.end()
    }
    return {
      store: 'PostgreSQL',
      url: `postgres://postgres@127.0.0.1:5432/${name}`,
      drop: async () => {
        const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' })
        await client.connect()
        try {
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        } finally {
          await client.end()
        }
      },
    }
  } catch (error) {
    return { store: 'PostgreSQL', url: null, skipped: `postgres://postgres@127.0.0.1:5432 unavailable: ${(error as Error).message}` }
  }
}

/** A fresh MySQL/MariaDB database on 127.0.0.1, dropped afterwards. */
export async function mysqlTarget(): Promise<FlushTarget> {
  const name = `server_status_bench_${process.pid}`
  try {
    const mysql = await import('mysql2/promise')
    const options = { host: '127.0.0.1', port: 3306, user: 'root', connectTimeout: 3000 }
    const admin = await mysql.createConnection(options)
    let version = ''
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`)
      await admin.query(`CREATE DATABASE ${name}`)
      const [rows] = await admin.query('SELECT VERSION() AS v')
      version = String((rows as Array<{ v: string }>)[0]?.v ?? '')
    } finally {
      await admin.end()
    }
    return {
      store: /mariadb/i.test(version) ? 'MariaDB' : 'MySQL',
      url: `mysql://root@127.0.0.1:3306/${name}`,
      drop: async () => {
        const connection = await mysql.createConnection(options)
        try {
          await connection.query(`DROP DATABASE IF EXISTS ${name}`)
        } finally {
          await connection.end()
        }
      },
    }
  } catch (error) {
    return { store: 'MySQL/MariaDB', url: null, skipped: `mysql://root@127.0.0.1:3306 unavailable: ${(error as Error).message}` }
  }
}

/** Size of the SQLite database after a number of recorded requests. */
export interface StorageFigures {
  requests: number
  routes: number
  minutes: number
  /** Bytes of the database file (and its WAL, if any is left). */
  fileBytes: number
  routeRows: number
  minuteRows: number
  dayRows: number
  /** ns per `record()` call, as a side figure of the run. */
  recordNs: number
}

/**
 * Records `requests` requests over `routes` routes and `minutes` minutes straight into a
 * Recorder, flushing once per minute into a fresh SQLite file, then measures the file.
 */
export async function measureStorage(requests: number, routes: number, minutes: number): Promise<StorageFigures> {
  const file = join(scratch, `storage-${requests}.db`)
  const store = await openStore(sqliteUrl(file))
  const recorder = new Recorder()
  const perMinute = Math.ceil(requests / minutes)
  // a day's start, so that every minute falls on the same day
  const firstMinute = Math.floor(Date.parse(`${clock.dayOf(Date.now())}T00:00:00Z`) / 60_000)
  const rules = Array.from({ length: routes }, (_, i) => `/r${i}/:id`)
  let recordNs = 0
  let done = 0
  try {
    for (let m = 0; m < minutes && done < requests; m++) {
      const now = (firstMinute + m) * 60_000
      const count = Math.min(perMinute, requests - done)
      const start = process.hrtime.bigint()
      for (let i = 0; i < count; i++) recorder.record(rules[(done + i) % routes]!, i % 50 === 0 ? FAILURE : SUCCESS, 3, now + (i % 60_000))
      recordNs += Number(process.hrtime.bigint() - start)
      done += count
      const buckets = recorder.drain()
      await store.write(minuteCounts(buckets, clock))
    }
  } finally {
    await store.close()
  }
  let fileBytes = 0
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) fileBytes += statSync(file + suffix).size
  }
  const db = new Database(file, { readonly: true })
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${TABLE_PREFIX}${table}`).get() as { n: number }).n
    return {
      requests: done,
      routes,
      minutes,
      fileBytes,
      routeRows: count('routes'),
      minuteRows: count('minutes'),
      dayRows: count('days'),
      recordNs: recordNs / done,
    }
  } finally {
    db.close()
  }
}
