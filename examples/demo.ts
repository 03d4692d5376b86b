// The demo: an Express 5 app with server-status, 30 days of made-up history and its own traffic.
//
//   npm run demo              → http://localhost:3000/status
//   PORT=4000 npm run demo    → another port
//   SERVER_STATUS_DATABASE_URL=postgres://… npm run demo   → another database
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import express, { type NextFunction, type Request, type Response } from 'express'
import { serverStatus } from '../src/express/index.js'
import { createStore, parseDatabaseUrl } from '../src/store/index.js'
import type { MinuteCounts } from '../src/types.js'
import { buildReport, checkout, getProduct, getUser, index, listOrders } from './handlers.js'

const PORT = Number(process.env.PORT ?? 3000)
const DATABASE = process.env.SERVER_STATUS_DATABASE_URL || 'sqlite:///tmp/demo-status.db'
const SECRET = process.env.SERVER_STATUS_API_SECRET || 'demo-secret-change-me'
/** One request every 200 ms: about 5 requests a second. */
const TRAFFIC_EVERY_MS = 200
/** Requests of the generator that may be in flight at once. */
const MAX_IN_FLIGHT = 16

if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65_535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`)
  process.exit(1)
}

// ---------------------------------------------------------------------------------------------
// Demo history: written straight into the store once per database, before the app starts.

interface HistoryPlan {
  rule: string
  /** Requests on an ordinary day. */
  perDay: number
  /** Share of failures on an ordinary day. */
  failureRate: number
  /** Share of ignored responses (401, 403, 429, …) on an ordinary day. */
  ignoredRate: number
  /** Mean response time in ms. */
  meanMs: number
  /** Days ago → share of failures on that day: the incidents. */
  incidents: Record<number, number>
}

const HISTORY: HistoryPlan[] = [
  { rule: '/', perDay: 4200, failureRate: 0, ignoredRate: 0, meanMs: 2, incidents: { 12: 0.004 } },
  { rule: '/api/orders', perDay: 4100, failureRate: 0.1, ignoredRate: 0, meanMs: 24, incidents: { 20: 0.8 } },
  { rule: '/api/reports', perDay: 1400, failureRate: 0, ignoredRate: 0, meanMs: 500, incidents: { 5: 0.03, 6: 0.01 } },
  { rule: '/api/products/:id', perDay: 2800, failureRate: 0, ignoredRate: 0, meanMs: 3, incidents: { 12: 0.02 } },
  { rule: '/api/v1/users/:id', perDay: 2700, failureRate: 0, ignoredRate: 0.03, meanMs: 3, incidents: { 20: 0.15 } },
  { rule: '/api/checkout', perDay: 1300, failureRate: 0, ignoredRate: 0, meanMs: 70, incidents: { 3: 0.02, 9: 0.01, 17: 0.02, 26: 0.3 } },
]
const HISTORY_DAYS = 30

/** A small seeded generator, so every fresh database gets the same plausible history. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** `YYYY-MM-DD` in UTC, `daysAgo` days before today. */
function utcDay(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
}

function demoHistory(): MinuteCounts[] {
  const rand = random(42)
  const counts: MinuteCounts[] = []
  for (let daysAgo = HISTORY_DAYS; daysAgo >= 1; daysAgo--) {
    const day = utcDay(daysAgo)
    // one row per route per day, at noon UTC of that day
    const minute = Math.floor(Date.parse(`${day}T12:00:00Z`) / 60_000)
    for (const plan of HISTORY) {
      const total = Math.round(plan.perDay * (0.8 + 0.4 * rand()))
      const rate = plan.incidents[daysAgo] ?? (plan.failureRate > 0 ? plan.failureRate * (0.7 + 0.6 * rand()) : 0)
      const failure = rate > 0 ? Math.max(1, Math.round(total * rate)) : 0
      const ignored = Math.round(total * plan.ignoredRate)
      const success = total - failure - ignored
      const durationMs = Math.round(total * plan.meanMs * (0.9 + 0.2 * rand()))
      counts.push({ rule: plan.rule, minute, day, success, failure, ignored, durationMs })
    }
  }
  return counts
}

/** Writes the demo history unless the database already has day rows; tells which it did. */
async function seedHistory(database: string): Promise<boolean> {
  const store = await createStore(database, { tablePrefix: 'server_status_' })
  try {
    await store.init()
    const existing = await store.readDays(utcDay(HISTORY_DAYS + 400))
    if (existing.length > 0) return false
    await store.write(demoHistory())
    return true
  } finally {
    await store.close()
  }
}

const seeded = await seedHistory(DATABASE)

// ---------------------------------------------------------------------------------------------
// The app: what a user of server-status writes.

const app = express()
const status = serverStatus(app, {
  database: DATABASE,
  flushIntervalMs: 5000,
  title: 'Demo Shop Status',
  api: { secret: SECRET },
})

app.use(express.json())

app.get('/', index)
app.get('/api/orders', listOrders)
app.get('/api/reports', buildReport)
app.get('/api/products/:id', getProduct)
app.post('/api/checkout', checkout)

const v1 = express.Router()
v1.get('/users/:id', getUser)
app.use('/api/v1', v1)
status.describe('/api/v1/users/:id', { name: 'Users (API v1)', doc: 'One user by id, from a router mounted at /api/v1.' })

// Answers thrown errors without printing a stack trace for each; server-status has already
// noted the route's handler threw, so the request counts as a failure.
app.use((error: Error, req: Request, res: Response, next: NextFunction) => {
  if (res.headersSent) {
    next(error)
    return
  }
  res.status(500).json({ error: error.message })
})

// ---------------------------------------------------------------------------------------------
// Traffic: this process sends itself a few requests a second until it stops.

interface Call {
  weight: number
  method: 'GET' | 'POST'
  path: () => string
}

const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1))
const CALLS: Call[] = [
  { weight: 30, method: 'GET', path: () => '/' },
  { weight: 30, method: 'GET', path: () => '/api/orders' },
  { weight: 10, method: 'GET', path: () => '/api/reports' },
  { weight: 20, method: 'GET', path: () => `/api/products/${between(1, 500)}` },
  { weight: 20, method: 'GET', path: () => `/api/v1/users/${Math.random() < 0.03 ? 0 : between(1, 999)}` },
  { weight: 10, method: 'POST', path: () => '/api/checkout' },
  // a scanner's probes: they match no route and only add to the "unmatched" count
  { weight: 1, method: 'GET', path: () => ['/wp-login.php', '/.env', '/admin.php'][between(0, 2)]! },
]
const TOTAL_WEIGHT = CALLS.reduce((sum, call) => sum + call.weight, 0)

function pick(): Call {
  let n = Math.random() * TOTAL_WEIGHT
  for (const call of CALLS) {
    n -= call.weight
    if (n < 0) return call
  }
  return CALLS[0]!
}

function startTraffic(base: string): () => void {
  const abort = new AbortController()
  let inFlight = 0
  const timer = setInterval(() => {
    if (inFlight >= MAX_IN_FLIGHT) return
    const call = pick()
    inFlight++
    fetch(base + call.path(), {
      method: call.method,
      signal: abort.signal,
      ...(call.method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{"items":[1,2]}' } : {}),
    })
      .then((res) => res.arrayBuffer())
      .catch(() => {})
      .finally(() => inFlight--)
  }, TRAFFIC_EVERY_MS)
  return () => {
    clearInterval(timer)
    abort.abort()
  }
}

// ---------------------------------------------------------------------------------------------
// Start and stop.

/** How to get fresh demo history: delete the SQLite file, or the tables elsewhere. */
function startOver(): string {
  const location = parseDatabaseUrl(DATABASE)
  if (location.kind !== 'sqlite') return 'drop the server_status_* tables'
  if (location.filename === ':memory:') return 'start it again'
  return `delete ${resolve(location.filename)}*`
}

const server = createServer(app)
server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `Port ${PORT} is in use. Start the demo on another one: PORT=3001 npm run demo`
      : `The demo could not listen on port ${PORT}: ${error.message}`,
  )
  void status.close().finally(() => process.exit(1))
})

server.listen(PORT, () => {
  const port = (server.address() as AddressInfo).port
  const base = `http://localhost:${port}`
  const stopTraffic = startTraffic(`http://127.0.0.1:${port}`)

  console.log(`
server-status demo, listening on port ${port}

  Status page:  ${base}/status
  JSON:         ${base}/status/api/routes
  Database:     ${DATABASE}

  ${seeded ? `The past ${HISTORY_DAYS} days were filled with DEMO DATA: made-up counts, not real traffic.` : 'The past days on the page are DEMO DATA written at an earlier start: made-up counts, not real traffic.'}
  Today's counts are real: this process sends itself about ${Math.round(1000 / TRAFFIC_EVERY_MS)} requests a second.
  Counts are written every 5 s; the page reloads itself every minute.

  Configure API secret (demo only): ${SECRET}
  Rename a route:
    curl -X PUT ${base}/server-status/configure \\
      -H 'Authorization: Bearer ${SECRET}' -H 'Content-Type: application/json' \\
      -d '{"rule": "/", "name": "Hello World!"}'
  Delete a route (its history goes, and it stays hidden until a PUT names it again):
    curl -X DELETE ${base}/server-status/configure \\
      -H 'Authorization: Bearer ${SECRET}' -H 'Content-Type: application/json' \\
      -d '{"rule": "/api/reports"}'

  Start over with fresh demo history: stop the demo and ${startOver()}.
  Press Ctrl+C to stop.
`)

  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`\n${signal}: writing the last counts and stopping.`)
    stopTraffic()
    server.close()
    server.closeAllConnections()
    status
      .close()
      .catch((error: unknown) => console.error(`server-status did not close cleanly: ${String(error)}`))
      .finally(() => process.exit(0))
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
})
