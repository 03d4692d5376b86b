// 100,000 distinct unmatched paths and 100,000 parameter values: stored routes and held memory stay flat.
import { Agent, IncomingMessage, request, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import type { StatusHandle, StatusReport } from '../src/types.js'
import { EXPRESSES, listen, memoryLogger, settledHeap, tempSqlite, type Running } from './support.js'

const express = EXPRESSES[1].express
const TOTAL = 100_000
/** Requests sent over real HTTP before the first measurement; the rest go through the app in-process. */
const OVER_HTTP = 10_000
const CONCURRENCY = 32
/** Most the held heap may differ between 10,000 and 100,000 requests. */
const HEAP_SLACK_BYTES = 4 * 1024 * 1024
const APP_RULES = ['/', '/health', '/items/:id']

function send(agent: Agent, url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Hands one GET to the app as Node's server would, on a socket that discards what is written. */
function drive(app: (req: IncomingMessage, res: ServerResponse) => void, path: string): Promise<number> {
  const socket = new Duplex({
    write(_chunk, _encoding, done) {
      done()
    },
    read() {},
  }) as unknown as Socket
  const req = new IncomingMessage(socket)
  req.method = 'GET'
  req.url = path
  req.headers = { host: '127.0.0.1' }
  req.push(null)
  const res = new ServerResponse(req)
  res.assignSocket(socket)
  return new Promise((resolve, reject) => {
    res.on('finish', () => {
      res.detachSocket(socket)
      socket.destroy()
      resolve(res.statusCode)
    })
    res.on('error', reject)
    app(req, res)
  })
}

/** Runs `count` calls of `one(i)` for i in [from, from + count), `CONCURRENCY` at a time; returns how often each status came back. */
async function run(from: number, count: number, one: (i: number) => Promise<number>): Promise<Map<number, number>> {
  const codes = new Map<number, number>()
  let next = from
  const end = from + count
  const worker = async () => {
    while (next < end) {
      const code = await one(next++)
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }
  }
  const settled = await Promise.allSettled(
    Array.from({ length: CONCURRENCY }, () =>
      worker().catch((error: unknown) => {
        // the other workers stop too, so none is left sending once the test ends
        next = end
        throw error
      }),
    ),
  )
  for (const result of settled) if (result.status === 'rejected') throw result.reason
  return codes
}

/** The rules in the SQLite routes table, and how many distinct rules its count tables hold. */
function storedRules(path: string): { routes: string[]; minuteRules: number; dayRules: number } {
  const db = new Database(path, { readonly: true })
  try {
    const routes = (db.prepare('select rule from server_status_routes order by rule').all() as { rule: string }[]).map((row) => row.rule)
    const distinct = (table: string) => (db.prepare(`select count(distinct rule) as n from ${table}`).get() as { n: number }).n
    return { routes, minuteRules: distinct('server_status_minutes'), dayRules: distinct('server_status_days') }
  } finally {
    db.close()
  }
}

function routeOf(report: StatusReport, rule: string) {
  const route = report.routes.find((r) => r.rule === rule)
  expect(route, rule).toBeDefined()
  return route!
}

describe('cardinality', () => {
  let file: ReturnType<typeof tempSqlite>
  let running: Running | null = null
  let status: StatusHandle | null = null
  let agent: Agent | null = null
  let app: ReturnType<typeof express>
  let logger: ReturnType<typeof memoryLogger>

  beforeEach(async () => {
    file = tempSqlite()
    logger = memoryLogger()
    app = express()
    status = serverStatus(app, { database: file.url, logger, flushIntervalMs: 1000 })
    app.get('/', (_req, res) => {
      res.send('ok')
    })
    app.get('/health', (_req, res) => {
      res.send('healthy')
    })
    app.get('/items/:id', (req, res) => {
      res.send(req.params.id)
    })
    running = await listen(app)
    agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  })

  afterEach(async () => {
    agent?.destroy()
    await running?.close()
    await status?.close()
    file.cleanup()
    agent = null
    running = null
    status = null
  })

  /**
   * Sends 10,000 requests built by `pathOf` over HTTP, measures, sends 90,000 more through the
   * app in-process, measures again; returns both reports and heaps.
   */
  async function flood(pathOf: (i: number) => string, expectedCode: number) {
    const url = running!.url
    const started = performance.now()
    const overHttp = await run(0, OVER_HTTP, (i) => send(agent!, url, pathOf(i)))
    expect(overHttp).toEqual(new Map([[expectedCode, OVER_HTTP]]))
    const httpSeconds = (performance.now() - started) / 1000
    await status!.flush()
    const heapAt10k = await settledHeap()
    const reportAt10k = await status!.report()
    const storedAt10k = storedRules(file.path)

    const inProcess = await run(OVER_HTTP, TOTAL - OVER_HTTP, (i) => drive(app as never, pathOf(i)))
    expect(inProcess).toEqual(new Map([[expectedCode, TOTAL - OVER_HTTP]]))
    await status!.flush()
    const heapAt100k = await settledHeap()
    const reportAt100k = await status!.report()
    const storedAt100k = storedRules(file.path)
    const seconds = (performance.now() - started) / 1000
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2)
    console.log(
      `${TOTAL} requests (${OVER_HTTP} over HTTP at ${Math.round(OVER_HTTP / httpSeconds)} req/s) in ${seconds.toFixed(1)} s; ` +
        `heap ${mb(heapAt10k)} MB after ${OVER_HTTP}, ${mb(heapAt100k)} MB after ${TOTAL} (${heapAt100k >= heapAt10k ? '+' : ''}${mb(heapAt100k - heapAt10k)} MB)`,
    )
    return { heapAt10k, heapAt100k, reportAt10k, reportAt100k, storedAt10k, storedAt100k }
  }

  it('counts 100,000 distinct unmatched paths as one unmatched count, with no route and no memory per path', async () => {
    // every app route once, so the routes table starts with all of them
    for (const path of ['/', '/health', '/items/seed']) expect(await send(agent!, running!.url, path)).toBe(200)
    await status!.flush()
    expect(storedRules(file.path).routes).toEqual(APP_RULES)

    const result = await flood((i) => `/nowhere/${i.toString(36)}/x${i}`, 404)

    expect(result.reportAt10k.unmatched).toBe(OVER_HTTP)
    expect(result.reportAt100k.unmatched).toBe(TOTAL)
    for (const report of [result.reportAt10k, result.reportAt100k]) {
      expect(report.routes.map((r) => r.rule)).toEqual(APP_RULES)
      for (const rule of APP_RULES) expect(routeOf(report, rule)).toMatchObject({ success: 1, failure: 0, ignored: 0 })
    }
    // the one extra row is the unmatched count itself, stored under the empty rule
    for (const stored of [result.storedAt10k, result.storedAt100k]) {
      expect(stored).toEqual({ routes: ['', ...APP_RULES], minuteRules: APP_RULES.length + 1, dayRules: APP_RULES.length + 1 })
    }
    expect(Math.abs(result.heapAt100k - result.heapAt10k)).toBeLessThan(HEAP_SLACK_BYTES)
    expect(logger.lines).toEqual([])
  }, 150_000)

  it('counts 100,000 distinct parameter values under one route, with no route and no memory per value', async () => {
    for (const path of ['/', '/health']) expect(await send(agent!, running!.url, path)).toBe(200)
    await status!.flush()

    const result = await flood((i) => `/items/${i}-${(i * 7919).toString(36)}`, 200)

    expect(routeOf(result.reportAt10k, '/items/:id')).toMatchObject({ success: OVER_HTTP, failure: 0, ignored: 0 })
    expect(routeOf(result.reportAt100k, '/items/:id')).toMatchObject({ success: TOTAL, failure: 0, ignored: 0 })
    for (const report of [result.reportAt10k, result.reportAt100k]) {
      expect(report.unmatched).toBe(0)
      expect(report.routes.map((r) => r.rule)).toEqual(APP_RULES)
      expect(routeOf(report, '/')).toMatchObject({ success: 1, failure: 0, ignored: 0 })
      expect(routeOf(report, '/health')).toMatchObject({ success: 1, failure: 0, ignored: 0 })
    }
    for (const stored of [result.storedAt10k, result.storedAt100k]) {
      expect(stored).toEqual({ routes: APP_RULES, minuteRules: APP_RULES.length, dayRules: APP_RULES.length })
    }
    expect(Math.abs(result.heapAt100k - result.heapAt10k)).toBeLessThan(HEAP_SLACK_BYTES)
    expect(logger.lines).toEqual([])
  }, 150_000)
})
