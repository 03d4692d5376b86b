// Bounded soak: minutes of concurrent mixed traffic on SQLite and PostgreSQL; counts exact, heap bounded, nothing logged.
import { Agent, request } from 'node:http'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import type { StatusHandle, StatusReport } from '../src/types.js'
import { EXPRESSES, databaseName, listen, memoryLogger, settledHeap, tempSqlite, type Running } from './support.js'

const express = EXPRESSES[1].express
const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test'
/** Length of each soak run; `SOAK_SECONDS=10` gives a quick run. */
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 120)
const LOOPS = 16
/** Most the heap may grow over a run, after a full garbage collection on both sides. */
const HEAP_BOUND_BYTES = 20 * 1024 * 1024

type Outcome = 'success' | 'failure' | 'ignored'

/** The default classification, to know what each answer must add. */
function outcomeOf(statusCode: number): Outcome {
  if (statusCode >= 200 && statusCode < 400) return 'success'
  return [404, 500, 502, 503, 504].includes(statusCode) ? 'failure' : 'ignored'
}

interface Call {
  method: string
  path: string
  /** The rule it counts under, or `null` for an unmatched request. */
  rule: string | null
}

/** The mix of traffic: one call per index, cycling through routes, codes and methods. */
function callFor(i: number): Call {
  switch (i % 12) {
    case 0:
    case 1:
      return { method: 'GET', path: '/', rule: '/' }
    case 2:
      return { method: 'GET', path: `/users/${i}`, rule: '/users/:id' }
    case 3:
      return { method: 'POST', path: '/orders', rule: '/orders' }
    case 4:
      return { method: 'GET', path: '/old', rule: '/old' }
    case 5:
      return { method: 'GET', path: '/missing', rule: '/missing' }
    case 6:
      return { method: 'GET', path: '/boom', rule: '/boom' }
    case 7:
      return { method: 'GET', path: '/async-boom', rule: '/async-boom' }
    case 8:
      return { method: 'GET', path: '/teapot', rule: '/teapot' }
    case 9:
      return { method: 'GET', path: '/slow', rule: '/slow' }
    case 10:
      return { method: 'GET', path: `/api/things/${i}`, rule: '/api/things/:id' }
    default:
      return { method: 'GET', path: `/nowhere/${i}`, rule: null }
  }
}

const RULES = ['/', '/users/:id', '/orders', '/old', '/missing', '/boom', '/async-boom', '/teapot', '/slow', '/api/things/:id']

/** One request on a kept-alive connection; resolves with the status once the body is read. */
function send(agent: Agent, url: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

interface Database {
  name: string
  create(): Promise<{ url: string; drop(): Promise<void> }>
}

const DATABASES: Database[] = [
  {
    name: 'SQLite',
    async create() {
      const file = tempSqlite()
      return { url: file.url, drop: async () => file.cleanup() }
    },
  },
  {
    name: 'PostgreSQL',
    async create() {
      const name = databaseName()
      const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
      await admin.connect()
      try {
        await admin.query(`create database ${name}`)
      } finally {
        await admin.end()
      }
      return {
        url: `postgres://postgres@127.0.0.1:5432/${name}`,
        async drop() {
          const again = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
          await again.connect()
          try {
            await again.query(`drop database if exists ${name} with (force)`)
          } finally {
            await again.end()
          }
        },
      }
    },
  },
]

/** An Express 5 app with routes that answer every class of status, some of them by throwing. */
function buildApp(database: string, logger: ReturnType<typeof memoryLogger>): { app: ReturnType<typeof express>; status: StatusHandle } {
  const app = express()
  const status = serverStatus(app, { database, flushIntervalMs: 1000, logger })
  app.get('/', (_req, res) => {
    res.send('ok')
  })
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id })
  })
  app.post('/orders', (_req, res) => {
    res.status(201).json({ ok: true })
  })
  app.get('/old', (_req, res) => {
    res.redirect(302, '/')
  })
  app.get('/missing', (_req, res) => {
    res.status(404).send('not here')
  })
  app.get('/boom', () => {
    throw new Error('boom')
  })
  app.get('/async-boom', async () => {
    await Promise.resolve()
    throw new Error('async boom')
  })
  app.get('/teapot', (_req, res) => {
    res.status(418).send('teapot')
  })
  app.get('/slow', (_req, res) => {
    setTimeout(() => res.send('slow'), 2)
  })
  const api = express.Router()
  api.get('/things/:id', (req, res) => {
    res.status(Number(req.params.id) % 2 === 0 ? 200 : 503).send('thing')
  })
  app.use('/api', api)
  // a quiet error handler: the thrown errors above are part of the load, not news
  app.use((_err: unknown, _req: unknown, res: { status(code: number): { send(body: string): void } }, _next: unknown) => {
    res.status(500).send('error')
  })
  return { app, status }
}

type Tally = Map<string, Record<Outcome, number>>

function totalsOf(report: StatusReport): Tally {
  const totals: Tally = new Map()
  for (const route of report.routes) totals.set(route.rule, { success: route.success, failure: route.failure, ignored: route.ignored })
  return totals
}

for (const database of DATABASES) {
  describe(`soak on ${database.name}`, () => {
    let db: { url: string; drop(): Promise<void> } | null = null
    let running: Running | null = null
    let status: StatusHandle | null = null
    let agent: Agent | null = null
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => rejections.push(reason)

    beforeEach(async () => {
      rejections.length = 0
      process.on('unhandledRejection', onRejection)
      db = await database.create()
    })

    afterEach(async () => {
      process.off('unhandledRejection', onRejection)
      agent?.destroy()
      await running?.close()
      await status?.close()
      await db?.drop()
      agent = null
      running = null
      status = null
      db = null
    })

    it(
      `serves ${SOAK_SECONDS} s of concurrent traffic with exact counts, a bounded heap and nothing logged`,
      async () => {
        const logger = memoryLogger()
        const built = buildApp(db!.url, logger)
        status = built.status
        running = await listen(built.app)
        const url = running.url
        agent = new Agent({ keepAlive: true, maxSockets: LOOPS + 1 })

        const expected: Tally = new Map(RULES.map((rule) => [rule, { success: 0, failure: 0, ignored: 0 }]))
        let unmatched = 0
        let sent = 0
        const tally = (call: Call, code: number) => {
          sent++
          if (call.rule === null) unmatched++
          else expected.get(call.rule)![outcomeOf(code)]++
        }

        // warm-up: every route once, written, so the heap before holds the store and its tables
        for (let i = 0; i < 12; i++) {
          const call = callFor(i)
          tally(call, await send(agent, url, call.method, call.path))
        }
        await status.flush()
        const heapBefore = await settledHeap()

        const started = performance.now()
        const deadline = started + SOAK_SECONDS * 1000
        let index = 12
        let pageReads = 0
        // a failure stops every loop, so none is left sending once the test ends
        let failed = false
        const going = () => !failed && performance.now() < deadline
        const loop = async () => {
          while (going()) {
            const call = callFor(index++)
            tally(call, await send(agent!, url, call.method, call.path))
          }
        }
        // someone keeps the status page and its JSON open while the load runs
        const reader = async () => {
          while (going()) {
            expect(await send(agent!, url, 'GET', '/status')).toBe(200)
            expect(await send(agent!, url, 'GET', '/status/api/routes')).toBe(200)
            pageReads += 2
            await new Promise((resolve) => setTimeout(resolve, 500))
          }
        }
        const settled = await Promise.allSettled(
          [...Array.from({ length: LOOPS }, () => loop), reader].map((task) =>
            task().catch((error: unknown) => {
              failed = true
              throw error
            }),
          ),
        )
        for (const result of settled) if (result.status === 'rejected') throw result.reason
        const seconds = (performance.now() - started) / 1000

        await status.flush()
        const heapAfter = await settledHeap()
        const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
        console.log(
          `soak ${database.name}: ${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} req/s, ${LOOPS} loops, ${pageReads} page reads), ` +
            `heap ${mb(heapBefore)} MB before, ${mb(heapAfter)} MB after (${heapAfter >= heapBefore ? '+' : ''}${mb(heapAfter - heapBefore)} MB, bound +${mb(HEAP_BOUND_BYTES)} MB)`,
        )

        // every class of answer was seen, so the comparison below covers each of them
        const seen = [...expected.values()].reduce((sum, t) => ({ success: sum.success + t.success, failure: sum.failure + t.failure, ignored: sum.ignored + t.ignored }))
        expect(seen.success).toBeGreaterThan(0)
        expect(seen.failure).toBeGreaterThan(0)
        expect(seen.ignored).toBeGreaterThan(0)
        expect(unmatched).toBeGreaterThan(0)
        expect(seen.success + seen.failure + seen.ignored + unmatched).toBe(sent)

        const live = await status.report()
        expect(totalsOf(live)).toEqual(expected)
        expect(live.unmatched).toBe(unmatched)
        expect(live.dropped).toBe(0)
        expect(live.storageUnavailableSince).toBeNull()

        expect(heapAfter - heapBefore).toBeLessThan(HEAP_BOUND_BYTES)
        expect(logger.lines).toEqual([])
        expect(rejections).toEqual([])

        // what the store holds, read by a fresh instance: every count written once
        agent.destroy()
        await running.close()
        await status.close()
        running = null
        const reader2 = buildApp(db!.url, logger)
        status = reader2.status
        const stored = await status.report()
        expect(totalsOf(stored)).toEqual(expected)
        expect(stored.unmatched).toBe(unmatched)
        expect(logger.lines).toEqual([])
      },
      SOAK_SECONDS * 1000 + 90_000,
    )
  })
}
