// Exact counts: before and after flushes, across timer flushes and a restart; report() equals the JSON; storage stays flat.

import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import type { ServerStatusOptions, StatusHandle, StatusReport } from '../src/types.js'
import { cleanupAfterEach, closeOnce, countsOf, EXPRESSES, hit, listen, memoryLogger, routeOf, tempSqlite, type Counts, type Running } from './support.js'

type Totals = Record<string, Counts>

const RULES = ['/ok', '/items/:id', '/flaky/:code'] as const

function totalsOf(report: StatusReport): Totals {
  const totals: Totals = {}
  for (const route of report.routes) {
    totals[route.rule] = countsOf(route)
    // the days add up to the route's totals
    const days = route.days.reduce(
      (sum, d) => ({ success: sum.success + d.success, failure: sum.failure + d.failure, ignored: sum.ignored + d.ignored }),
      { success: 0, failure: 0, ignored: 0 },
    )
    expect(days, route.rule).toEqual(totals[route.rule])
  }
  return totals
}

function emptyTotals(): Totals {
  return Object.fromEntries(RULES.map((rule) => [rule, { success: 0, failure: 0, ignored: 0 }]))
}

function addTotals(a: Totals, b: Totals): Totals {
  const sum = emptyTotals()
  for (const rule of RULES) {
    for (const key of ['success', 'failure', 'ignored'] as const) sum[rule]![key] = (a[rule]?.[key] ?? 0) + (b[rule]?.[key] ?? 0)
  }
  return sum
}

/** One request of a mix, with the rule it counts under and how. */
interface Planned {
  path: string
  method: string
  rule: (typeof RULES)[number]
  outcome: keyof Counts
  status: number
}

const FLAKY_CODES: Array<[number, keyof Counts]> = [
  [200, 'success'],
  [500, 'failure'],
  [503, 'failure'],
  [401, 'ignored'],
  [302, 'success'],
  [404, 'failure'],
  [429, 'ignored'],
]

/** `n` requests spread over the three routes, methods and codes, in a fixed order. */
function plan(n: number, offset = 0): Planned[] {
  const out: Planned[] = []
  for (let i = offset; i < offset + n; i++) {
    const kind = i % 3
    if (kind === 0) out.push({ path: '/ok', method: 'GET', rule: '/ok', outcome: 'success', status: 200 })
    else if (kind === 1) {
      const method = ['GET', 'POST', 'DELETE'][i % 7 % 3]!
      out.push({ path: `/items/${i}`, method, rule: '/items/:id', outcome: 'success', status: method === 'POST' ? 201 : 200 })
    } else {
      const [code, outcome] = FLAKY_CODES[i % FLAKY_CODES.length]!
      out.push({ path: `/flaky/${code}`, method: 'GET', rule: '/flaky/:code', outcome, status: code })
    }
  }
  return out
}

function expectedOf(requests: readonly Planned[]): Totals {
  const totals = emptyTotals()
  for (const r of requests) totals[r.rule]![r.outcome]++
  return totals
}

/** Sends the planned requests, `concurrency` at a time, checking each answer. */
async function send(base: string, requests: readonly Planned[], concurrency = 25): Promise<void> {
  let next = 0
  const wrong: string[] = []
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++]!
      const res = await fetch(`${base}${r.path}`, { method: r.method, redirect: 'manual' })
      await res.arrayBuffer()
      if (res.status !== r.status) wrong.push(`${r.method} ${r.path}: ${res.status}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  expect(wrong).toEqual([])
}

function sumStored(path: string): Totals {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const rows = db
      .prepare('select rule, sum(success) as success, sum(failure) as failure, sum(ignored) as ignored from server_status_days group by rule')
      .all() as Array<{ rule: string; success: number; failure: number; ignored: number }>
    return Object.fromEntries(rows.map((r) => [r.rule, { success: r.success, failure: r.failure, ignored: r.ignored }]))
  } finally {
    db.close()
  }
}

for (const { name, express } of EXPRESSES) {
  describe(`exact counts on ${name}`, () => {
    const cleanups = cleanupAfterEach()

    async function start(database: string, options: ServerStatusOptions = {}) {
      const app = express()
      const status: StatusHandle = serverStatus(app, { database, logger: memoryLogger(), ...options })
      app.get('/ok', (_req, res) => void res.send('ok'))
      app.get('/items/:id', (_req, res) => void res.send('item'))
      app.post('/items/:id', (_req, res) => void res.status(201).send('made'))
      app.delete('/items/:id', (_req, res) => void res.send('deleted'))
      app.get('/flaky/:code', (req, res) => {
        const code = Number(req.params.code)
        if (code === 302) res.redirect(302, '/ok')
        else res.status(code).send(`code ${code}`)
      })
      const server: Running = await listen(app)
      const close = closeOnce(cleanups, () => status.close(), () => server.close())
      const json = async (): Promise<StatusReport> => {
        const res = await fetch(`${server.url}/status/api/routes`)
        expect(res.status).toBe(200)
        return (await res.json()) as StatusReport
      }
      return { status, server, json, close }
    }

    it('counts 537 concurrent mixed requests exactly, before and after flush()', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { status, server, json } = await start(db.url)
      const requests = plan(537)
      const expected = expectedOf(requests)
      expect(expected).toEqual({
        '/ok': { success: 179, failure: 0, ignored: 0 },
        '/items/:id': { success: 179, failure: 0, ignored: 0 },
        '/flaky/:code': { success: 51, failure: 78, ignored: 50 },
      })
      await send(server.url, requests)

      const before = await json()
      expect(before.routes.map((r) => r.rule)).toEqual([...RULES])
      expect(totalsOf(before)).toEqual(expected)
      expect(before.unmatched).toBe(0)

      await status.flush()
      expect(sumStored(db.path)).toEqual(expected)
      expect(totalsOf(await json())).toEqual(expected)
      // a second flush with nothing pending changes nothing
      await status.flush()
      expect(sumStored(db.path)).toEqual(expected)
      expect(totalsOf(await json())).toEqual(expected)
    })

    it('counts exactly across timer flushes and explicit flushes with requests in between', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { status, server, json } = await start(db.url, { flushIntervalMs: 200 })
      let expected = emptyTotals()
      let offset = 0
      for (let round = 0; round < 5; round++) {
        const requests = plan(100 + round * 17, offset)
        offset += requests.length
        await send(server.url, requests, 10)
        expected = addTotals(expected, expectedOf(requests))
        expect(totalsOf(await json()), `round ${round}, live`).toEqual(expected)
        if (round % 2 === 0) {
          // let the timer write them
          await vi.waitFor(() => expect(sumStored(db.path)).toEqual(expected), { timeout: 5000, interval: 50 })
        } else {
          await status.flush()
          expect(sumStored(db.path)).toEqual(expected)
        }
        expect(totalsOf(await json()), `round ${round}, written`).toEqual(expected)
      }
      expect(expected['/ok']!.success + expected['/items/:id']!.success).toBeGreaterThan(300)
    })

    it('keeps the totals after a restart on the same SQLite file, and adds new requests on top', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const first = await start(db.url)
      const firstBatch = plan(211)
      await send(first.server.url, firstBatch)
      const expected = expectedOf(firstBatch)
      expect(totalsOf(await first.json())).toEqual(expected)
      // nothing flushed by hand: close() writes what is pending
      await first.close()
      expect(sumStored(db.path)).toEqual(expected)

      const second = await start(db.url)
      expect(totalsOf(await second.json())).toEqual(expected)
      const secondBatch = plan(89, 211)
      await send(second.server.url, secondBatch)
      const both = addTotals(expected, expectedOf(secondBatch))
      expect(totalsOf(await second.json())).toEqual(both)
      await second.status.flush()
      expect(totalsOf(await second.json())).toEqual(both)
      await second.close()

      const third = await start(db.url)
      expect(totalsOf(await third.json())).toEqual(both)
      expect(sumStored(db.path)).toEqual(both)
    })

    it('returns from report() the object served at /status/api/routes', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { status, server, json } = await start(db.url)
      await send(server.url, plan(60))
      await hit(`${server.url}/nowhere`, 4)
      await status.flush()
      await send(server.url, plan(30, 60))

      const served = await json()
      const reported = await status.report()
      expect(served.unmatched).toBe(4)
      const { generatedAt: servedAt, ...servedRest } = served
      const { generatedAt: reportedAt, ...reportedRest } = reported
      expect(reportedRest).toEqual(servedRest)
      expect(Date.parse(reportedAt) - Date.parse(servedAt)).toBeGreaterThanOrEqual(0)
      expect(JSON.parse(JSON.stringify(reported))).toEqual(reported)
      expect(Object.keys(served)).toEqual(expect.arrayContaining(['generatedAt', 'timeZone', 'days', 'status', 'unmatched', 'routes']))
      expect(served.routes.map((r) => r.rule)).toEqual([...RULES])
      expect(totalsOf(served)).toEqual(expectedOf(plan(90)))
    })
  })
}

describe('storage size', () => {
  const { express } = EXPRESSES[1]

  afterEach(() => {
    vi.useRealTimers()
  })

  /** Row count of each of the library's tables after `n` requests to one route. */
  async function rowsAfter(n: number): Promise<{ rows: Record<string, number>; report: StatusReport }> {
    const db = tempSqlite()
    try {
      const app = express()
      // no timer flush: both runs write in the same four explicit flushes
      const status = serverStatus(app, { database: db.url, logger: false, flushIntervalMs: 3_600_000 })
      app.get('/one/:id', (_req, res) => void res.send('one'))
      const server = await listen(app)
      try {
        // all within one minute of the (frozen) clock
        for (let part = 0; part < 4; part++) {
          const statuses = await hit(`${server.url}/one/${part}`, n / 4, undefined, 25)
          expect(statuses.filter((s) => s === 200)).toHaveLength(n / 4)
          await status.flush()
        }
      } finally {
        await server.close()
      }
      const report = await status.report()
      await status.close()
      const sqlite = new Database(db.path, { readonly: true, fileMustExist: true })
      try {
        const tables = sqlite
          .prepare("select name from sqlite_master where type = 'table' and name like 'server\\_status\\_%' escape '\\' order by name")
          .all() as Array<{ name: string }>
        const rows: Record<string, number> = {}
        for (const { name } of tables) rows[name] = (sqlite.prepare(`select count(*) as n from "${name}"`).get() as { n: number }).n
        return { rows, report }
      } finally {
        sqlite.close()
      }
    } finally {
      db.cleanup()
    }
  }

  it('keeps as many rows after 10,000 requests to one route as after 100', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-06-15T12:00:05Z'))
    const small = await rowsAfter(100)
    const large = await rowsAfter(10_000)
    expect(routeOf(small.report, '/one/:id').success).toBe(100)
    expect(routeOf(large.report, '/one/:id').success).toBe(10_000)
    expect(Object.keys(small.rows)).toEqual(
      expect.arrayContaining(['server_status_days', 'server_status_minutes', 'server_status_routes']),
    )
    expect(small.rows.server_status_minutes).toBe(1)
    expect(small.rows.server_status_days).toBe(1)
    expect(large.rows).toEqual(small.rows)
  }, 180_000)
})
