// The configure API under attack: each hostile call gets its documented status and changes nothing.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import type { StatusHandle, StatusReport } from '../src/types.js'
import { EXPRESSES, hit, listen, memoryLogger, tempSqlite, type Running } from './support.js'

const express = EXPRESSES[1].express
const SECRET = 'Zq7-hostile-secret-4f1c9e'
const AUTH = `Bearer ${SECRET}`
const API = '/server-status/configure'
const KIB16 = 16 * 1024
const TABLES = ['server_status_batches', 'server_status_days', 'server_status_migration', 'server_status_migration_lock', 'server_status_minutes', 'server_status_routes']

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

/** A hostile call: what differs from a valid rename of `/` with the right token. */
interface Hostile {
  name: string
  status: number
  error?: RegExp
  method?: string
  path?: string
  /** `null` sends no Authorization header. */
  authorization?: string | null
  /** `null` sends no Content-Type header. */
  contentType?: string | null
  /** Default: a valid rename of `/`. `null` sends no body. */
  body?: string | null
  /** Sends the body in pieces of this many bytes with `Transfer-Encoding: chunked`, so without a Content-Length. */
  chunked?: number
}

function send(url: string, call: Hostile): Promise<Reply> {
  const { method = 'PUT', path = API, authorization = AUTH, contentType = 'application/json', chunked } = call
  const body = call.body === undefined ? JSON.stringify({ rule: '/', name: 'Hacked', doc: 'pwned' }) : call.body
  const headers: Record<string, string> = {}
  if (authorization !== null) headers.authorization = authorization
  if (contentType !== null) headers['content-type'] = contentType
  if (body !== null && chunked === undefined) headers['content-length'] = String(Buffer.byteLength(body))
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    // the server may answer and close before a large body is all sent
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)))
    if (body !== null) {
      const bytes = Buffer.from(body)
      if (chunked === undefined) req.write(bytes)
      else for (let at = 0; at < bytes.length; at += chunked) req.write(bytes.subarray(at, at + chunked))
    }
    req.end()
  })
}

const json = (value: unknown) => JSON.stringify(value)
const nested = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth)
/** A valid rename padded with spaces to `bytes` bytes. */
const padded = (bytes: number) => {
  const body = json({ rule: '/', name: 'Hacked' })
  return body + ' '.repeat(bytes - Buffer.byteLength(body))
}
const sameLength = SECRET.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'))

const UNAUTHORIZED = /^missing or wrong token/
const NOT_OBJECT = /must be a JSON object/
const TOO_LARGE = /^the body is over 16 KiB$/
const NOT_JSON = /^the body must be JSON/
const NO_ROUTE = /^no route ".*" in this app$/

const CASES: Hostile[] = [
  // 401: the token is taken only from the header, under exactly the scheme `Bearer`
  { name: 'no Authorization header', authorization: null, status: 401, error: UNAUTHORIZED },
  { name: 'no Authorization header on a DELETE', method: 'DELETE', authorization: null, body: json({ rule: '/gone' }), status: 401, error: UNAUTHORIZED },
  { name: '"Bearer" alone', authorization: 'Bearer', status: 401, error: UNAUTHORIZED },
  { name: '"Bearer " with a space and nothing else', authorization: 'Bearer ', status: 401, error: UNAUTHORIZED },
  { name: 'a wrong token of the right length', authorization: `Bearer ${sameLength}`, status: 401, error: UNAUTHORIZED },
  { name: 'the secret with one character more', authorization: `Bearer ${SECRET}x`, status: 401, error: UNAUTHORIZED },
  { name: 'the secret less its last character', authorization: `Bearer ${SECRET.slice(0, -1)}`, status: 401, error: UNAUTHORIZED },
  { name: 'the token in the query string only', path: `${API}?token=${SECRET}`, authorization: null, status: 401, error: UNAUTHORIZED },
  { name: 'the token as access_token in the query string', path: `${API}?access_token=${SECRET}`, authorization: null, status: 401, error: UNAUTHORIZED },
  { name: 'the whole header in the query string', path: `${API}?authorization=${encodeURIComponent(AUTH)}`, authorization: null, status: 401, error: UNAUTHORIZED },
  { name: '"bearer <secret>" in lower case', authorization: `bearer ${SECRET}`, status: 401, error: UNAUTHORIZED },
  { name: '"BEARER <secret>" in upper case', authorization: `BEARER ${SECRET}`, status: 401, error: UNAUTHORIZED },
  { name: '"BeArEr <secret>" in mixed case', authorization: `BeArEr ${SECRET}`, status: 401, error: UNAUTHORIZED },
  { name: 'two spaces after "Bearer"', authorization: `Bearer  ${SECRET}`, status: 401, error: UNAUTHORIZED },
  { name: 'the secret in quotes', authorization: `Bearer "${SECRET}"`, status: 401, error: UNAUTHORIZED },
  { name: 'the secret alone, with no scheme', authorization: SECRET, status: 401, error: UNAUTHORIZED },
  { name: 'the secret under Basic', authorization: `Basic ${Buffer.from(`admin:${SECRET}`).toString('base64')}`, status: 401, error: UNAUTHORIZED },
  { name: 'the secret under Token', authorization: `Token ${SECRET}`, status: 401, error: UNAUTHORIZED },

  // 400: the body must be one JSON object with known fields of the right types
  { name: 'malformed JSON', body: '{"rule": "/", "name": "Hacked"', status: 400, error: /^malformed JSON body$/ },
  { name: 'an empty body', body: '', status: 400, error: /^malformed JSON body$/ },
  { name: 'JSON with a trailing comma', body: '{"rule": "/",}', status: 400, error: /^malformed JSON body$/ },
  { name: 'JSON that is an array', body: json([{ rule: '/', name: 'Hacked' }]), status: 400, error: NOT_OBJECT },
  { name: 'JSON that is a string', body: json('/'), status: 400, error: NOT_OBJECT },
  { name: 'JSON that is a number', body: '42', status: 400, error: NOT_OBJECT },
  { name: 'JSON that is null', body: 'null', status: 400, error: NOT_OBJECT },
  { name: 'JSON that is true', body: 'true', status: 400, error: NOT_OBJECT },
  { name: '"rule" a number', body: json({ rule: 1, name: 'Hacked' }), status: 400, error: /^field "rule" must be a string$/ },
  { name: '"rule" null', body: json({ rule: null, name: 'Hacked' }), status: 400, error: /^field "rule" must be a string$/ },
  { name: '"rule" an array', body: json({ rule: ['/'], name: 'Hacked' }), status: 400, error: /^field "rule" must be a string$/ },
  { name: '"rule" an operator object', body: json({ rule: { $ne: null }, name: 'Hacked' }), status: 400, error: /^field "rule" must be a string$/ },
  { name: '"rule" missing', body: json({ name: 'Hacked' }), status: 400, error: /^missing field "rule"$/ },
  { name: '"rule" empty', body: json({ rule: '', name: 'Hacked' }), status: 400, error: /^field "rule" must not be empty$/ },
  { name: '"rule" of 10,000 characters', body: json({ rule: `/${'a'.repeat(9_999)}`, name: 'Hacked' }), status: 400, error: /^field "rule" must be at most 512 characters$/ },
  { name: '"rule" with NUL', body: json({ rule: '/\u0000', name: 'Hacked' }), status: 400, error: /^field "rule" must not contain NUL$/ },
  { name: '"rule" of NUL then a real rule', method: 'DELETE', body: json({ rule: '/gone\u0000' }), status: 400, error: /^field "rule" must not contain NUL$/ },
  { name: '"rule" "../", not a path', body: json({ rule: '../', name: 'Hacked' }), status: 400, error: /^field "rule" must start with "\/"$/ },
  { name: '"name" with NUL', body: json({ rule: '/', name: 'Hack\u0000ed' }), status: 400, error: /^field "name" must not contain NUL$/ },
  { name: '"name" of 201 characters', body: json({ rule: '/', name: 'x'.repeat(201) }), status: 400, error: /^field "name" must be at most 200 characters$/ },
  { name: '"doc" of 10,001 characters', body: json({ rule: '/', doc: 'x'.repeat(10_001) }), status: 400, error: /^field "doc" must be at most 10000 characters$/ },
  { name: '"name" an object', body: json({ rule: '/', name: { toString: 'x' } }), status: 400, error: /^field "name" must be a string$/ },
  { name: 'an unknown field "id"', body: json({ rule: '/', name: 'Hacked', id: 1 }), status: 400, error: /^unknown field "id"$/ },
  { name: 'an unknown field "hidden"', body: json({ rule: '/', hidden: false }), status: 400, error: /^unknown field "hidden"$/ },
  { name: 'an unknown field "success"', body: json({ rule: '/', success: 1_000_000 }), status: 400, error: /^unknown field "success"$/ },
  { name: 'a field "Rule" in another case', body: json({ Rule: '/', rule: '/', name: 'Hacked' }), status: 400, error: /^unknown field "Rule"$/ },
  { name: 'a "__proto__" field', body: '{"rule": "/", "name": "Hacked", "__proto__": {"polluted": true}}', status: 400, error: /^unknown field "__proto__"$/ },
  { name: 'a "constructor" field', body: '{"rule": "/", "constructor": {"prototype": {"polluted": true}}}', status: 400, error: /^unknown field "constructor"$/ },
  { name: 'a "name" on a DELETE', method: 'DELETE', body: json({ rule: '/gone', name: 'x' }), status: 400, error: /^unknown field "name"$/ },
  { name: 'an array nested 8,000 deep', body: nested(8_000, '[', ']'), status: 400, error: NOT_OBJECT },
  { name: 'a "name" nested 5,000 arrays deep', body: `{"rule": "/", "name": ${nested(5_000, '[', ']')}}`, status: 400, error: /^field "name" must be a string$/ },
  { name: 'an unknown field nested 2,000 objects deep', body: `{"rule": "/", "x": ${nested(2_000, '{"x":', '}').replace(/\{"x":\}/, '{}')}}`, status: 400, error: /^unknown field "x"$/ },

  // 404: a rule the app does not have, whatever it holds
  { name: '"rule" "/../"', body: json({ rule: '/../', name: 'Hacked' }), status: 404, error: NO_ROUTE },
  { name: '"rule" climbing to /etc/passwd', body: json({ rule: '/../../../etc/passwd', name: 'Hacked' }), status: 404, error: NO_ROUTE },
  { name: '"rule" climbing back to a real rule', method: 'DELETE', body: json({ rule: '/hello/../gone' }), status: 404, error: NO_ROUTE },
  { name: '"rule" with SQL to drop the routes table', body: json({ rule: "/'; DROP TABLE server_status_routes; --", name: 'Hacked' }), status: 404, error: NO_ROUTE },
  { name: 'a DELETE of a rule with SQL', method: 'DELETE', body: json({ rule: "/' OR '1'='1" }), status: 404, error: NO_ROUTE },
  { name: '"rule" with a SQL comment and quote', body: json({ rule: '/" OR 1=1 --', name: 'Hacked' }), status: 404, error: NO_ROUTE },
  { name: '"rule" with HTML', body: json({ rule: '/<script>alert(1)</script>', name: 'Hacked' }), status: 404, error: NO_ROUTE },
  { name: '"rule" with an event handler', body: json({ rule: '/<img src=x onerror=alert(1)>', name: 'Hacked' }), status: 404, error: NO_ROUTE },
  { name: '"rule" of the status page itself', body: json({ rule: '/status', name: 'Hacked' }), status: 404, error: NO_ROUTE },
  { name: '"rule" of the API itself', method: 'DELETE', body: json({ rule: API }), status: 404, error: NO_ROUTE },
  { name: '"rule" in another case', body: json({ rule: '/USERS/:id', name: 'Hacked' }), status: 404, error: NO_ROUTE },
  { name: '"rule" a path that the rule matches', method: 'DELETE', body: json({ rule: '/users/7' }), status: 404, error: NO_ROUTE },

  // 413: over 16 KiB, announced or not
  { name: 'a body of 16 KiB + 1 with a Content-Length', body: padded(KIB16 + 1), status: 413, error: TOO_LARGE },
  { name: 'a body of 1 MiB with a Content-Length', body: json({ rule: '/', name: 'Hacked', doc: 'x'.repeat(1024 * 1024) }), status: 413, error: TOO_LARGE },
  { name: 'a body of 16 KiB + 1 sent chunked', body: padded(KIB16 + 1), chunked: 1000, status: 413, error: TOO_LARGE },
  { name: 'a body of 64 KiB sent chunked', body: json({ rule: '/', name: 'Hacked', doc: 'x'.repeat(64 * 1024) }), chunked: 8192, status: 413, error: TOO_LARGE },

  // 415: a body that is not JSON
  { name: 'JSON sent as text/plain', contentType: 'text/plain', status: 415, error: NOT_JSON },
  { name: 'JSON sent without a Content-Type', contentType: null, status: 415, error: NOT_JSON },
  { name: 'a form body', contentType: 'application/x-www-form-urlencoded', body: 'rule=%2F&name=Hacked', status: 415, error: NOT_JSON },
  { name: 'a multipart body', contentType: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="rule"\r\n\r\n/\r\n--x--\r\n', status: 415, error: NOT_JSON },
  { name: 'JSON sent as text/html', contentType: 'text/html', status: 415, error: NOT_JSON },

  // 405: only PUT and DELETE, checked before anything else
  { name: 'GET with the right token', method: 'GET', body: null, status: 405, error: /^method GET is not allowed; use PUT or DELETE$/ },
  { name: 'POST with the right token', method: 'POST', status: 405, error: /^method POST is not allowed; use PUT or DELETE$/ },
  { name: 'PATCH with the right token', method: 'PATCH', status: 405, error: /^method PATCH is not allowed; use PUT or DELETE$/ },
  { name: 'OPTIONS with the right token', method: 'OPTIONS', body: null, status: 405, error: /^method OPTIONS is not allowed; use PUT or DELETE$/ },
  { name: 'HEAD with the right token', method: 'HEAD', body: null, status: 405 },
  { name: 'POST with no token', method: 'POST', authorization: null, status: 405, error: /^method POST is not allowed; use PUT or DELETE$/ },
]

interface State {
  report: Omit<StatusReport, 'generatedAt'>
  tables: string[]
  routes: unknown[]
  minutes: unknown[]
  days: unknown[]
}

/** Everything a call could change: the JSON report and every row of the library's tables. */
async function stateOf(url: string, file: string): Promise<State> {
  const res = await fetch(`${url}/status/api/routes`)
  expect(res.status).toBe(200)
  const { generatedAt, ...report } = (await res.json()) as StatusReport
  expect(typeof generatedAt).toBe('string')
  const db = new Database(file, { readonly: true })
  try {
    const all = (sql: string) => db.prepare(sql).all()
    return {
      report,
      tables: (all("select name from sqlite_master where type = 'table' order by name") as { name: string }[]).map((row) => row.name),
      routes: all('select rule, name, doc, hidden from server_status_routes order by rule'),
      minutes: all('select rule, minute, success, failure, ignored from server_status_minutes order by rule, minute'),
      days: all('select rule, day, success, failure, ignored from server_status_days order by rule, day'),
    }
  } finally {
    db.close()
  }
}

interface App {
  url: string
  file: string
  status: StatusHandle
  logger: ReturnType<typeof memoryLogger>
}

describe('configure API under attack', () => {
  let file: ReturnType<typeof tempSqlite>
  let running: Running | null = null
  let status: StatusHandle | null = null
  let app: App

  /** An app with traffic on its routes, some of it written, `/` named through the API, and a count still pending. */
  beforeEach(async () => {
    file = tempSqlite()
    const logger = memoryLogger()
    const express5 = express()
    // no timed flush during a test: pending counts stay pending, so the tables change only by a call
    status = serverStatus(express5, { database: file.url, logger, api: { secret: SECRET }, flushIntervalMs: 3_600_000 })
    express5.get('/', function index(_req, res) {
      res.send('Welcome to API!')
    })
    express5.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id })
    })
    express5.get('/gone', (_req, res) => {
      res.send('soon gone')
    })
    const router = express.Router()
    router.get('/world', (_req, res) => {
      res.send('Hello World!')
    })
    express5.use('/hello', router)
    running = await listen(express5)
    const url = running.url
    await hit(`${url}/`, 3)
    await hit(`${url}/users/7`, 2)
    await hit(`${url}/gone`, 1)
    await hit(`${url}/nowhere`, 1)
    await status.flush()
    const named = await send(url, { name: 'seed', status: 200, body: json({ rule: '/', name: 'Home', doc: 'The front page.' }) })
    expect(named.status).toBe(200)
    await hit(`${url}/hello/world`, 1)
    app = { url, file: file.path, status, logger }
  })

  afterEach(async () => {
    vi.useRealTimers()
    await running?.close()
    await status?.close()
    file.cleanup()
    running = null
    status = null
  })

  it('starts from a state that a valid call does change', async () => {
    const before = await stateOf(app.url, app.file)
    expect(before.tables).toEqual(TABLES)
    expect(before.report.routes.map((r) => [r.rule, r.name, r.success, r.failure])).toEqual([
      ['/', 'Home', 3, 0],
      ['/users/:id', '/users/:id', 2, 0],
      ['/gone', '/gone', 1, 0],
      ['/hello/world', '/hello/world', 1, 0],
    ])
    expect(before.report.unmatched).toBe(1)
    const reply = await send(app.url, { name: 'valid', status: 200 })
    expect(reply.status).toBe(200)
    const after = await stateOf(app.url, app.file)
    expect(after).not.toEqual(before)
    expect(after.report.routes[0]).toMatchObject({ rule: '/', name: 'Hacked', doc: 'pwned' })
    const deleted = await send(app.url, { name: 'valid delete', method: 'DELETE', body: json({ rule: '/gone' }), status: 200 })
    expect(deleted.status).toBe(200)
    expect((await stateOf(app.url, app.file)).report.routes.map((r) => r.rule)).toEqual(['/', '/users/:id', '/hello/world'])
  })

  for (const call of CASES) {
    it(`answers ${call.status} to ${call.name}, and changes nothing`, async () => {
      const before = await stateOf(app.url, app.file)
      const reply = await send(app.url, call)
      expect(reply.status).toBe(call.status)
      if (call.method !== 'HEAD') {
        expect(reply.headers['content-type']).toBe('application/json; charset=utf-8')
        const body = JSON.parse(reply.text) as Record<string, unknown>
        expect(Object.keys(body)).toEqual(['error'])
        expect(body.error).toMatch(call.error!)
      } else {
        expect(reply.text).toBe('')
      }
      if (call.status === 401) expect(reply.headers['www-authenticate']).toBe('Bearer')
      if (call.status === 405) expect(reply.headers.allow).toBe('PUT, DELETE')
      // the secret is in no answer and no log line
      expect(reply.text).not.toContain(SECRET)
      expect(JSON.stringify(reply.headers)).not.toContain(SECRET)
      expect(app.logger.lines).toEqual([])
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(await stateOf(app.url, app.file)).toEqual(before)
      expect(before.tables).toEqual(TABLES)
    })
  }

  it('answers 429 with Retry-After to every call from an address after 10 failed authentications in a minute, even with the right token', async () => {
    const before = await stateOf(app.url, app.file)
    const failing = CASES.filter((call) => call.status === 401)
    const firstFailure = Date.now()
    for (let i = 0; i < 10; i++) {
      const reply = await send(app.url, failing[i % failing.length]!)
      expect(reply.status).toBe(401)
    }
    const tenthFailure = Date.now()

    const calls: Hostile[] = [
      { name: 'right token', status: 429 },
      { name: 'right token, DELETE', method: 'DELETE', body: json({ rule: '/gone' }), status: 429 },
      { name: 'wrong token', authorization: `Bearer ${sameLength}`, status: 429 },
      { name: 'no token', authorization: null, status: 429 },
    ]
    for (const call of calls) {
      const reply = await send(app.url, call)
      expect(reply.status).toBe(429)
      expect(reply.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(JSON.parse(reply.text)).toEqual({ error: expect.stringMatching(/^too many failed authentications from this address; try again in \d+ s$/) })
      const retryAfter = Number(reply.headers['retry-after'])
      expect(Number.isInteger(retryAfter)).toBe(true)
      expect(retryAfter).toBeGreaterThanOrEqual(1)
      expect(retryAfter).toBeLessThanOrEqual(60)
      expect(reply.text).not.toContain(SECRET)
    }
    // a method that is never allowed is still told so
    expect((await send(app.url, { name: 'GET', method: 'GET', body: null, status: 405 })).status).toBe(405)
    // the app and its page are not affected
    expect((await fetch(`${app.url}/users/1`)).status).toBe(200)
    expect((await fetch(`${app.url}/status`)).status).toBe(200)
    const after = await stateOf(app.url, app.file)
    const users = (state: State) => state.report.routes.find((r) => r.rule === '/users/:id')!
    expect(users(after).success).toBe(users(before).success + 1)
    // apart from that one request, nothing changed
    const without = (state: State) => ({ ...state, report: { ...state.report, routes: state.report.routes.filter((r) => r.rule !== '/users/:id') } })
    expect(without(after)).toEqual(without(before))
    expect({ ...users(after), success: 0, days: [], avgResponseMs: 0 }).toEqual({ ...users(before), success: 0, days: [], avgResponseMs: 0 })

    // the rest of the minute: still refused one second before it ends, accepted after it
    vi.useFakeTimers({ toFake: ['Date'], now: firstFailure + 59_000 })
    const late = await send(app.url, { name: 'right token, late', status: 429 })
    expect(late.status).toBe(429)
    expect(Number(late.headers['retry-after'])).toBeLessThanOrEqual(1 + Math.ceil((tenthFailure - firstFailure) / 1000))
    vi.setSystemTime(tenthFailure + 60_001)
    const again = await send(app.url, { name: 'right token, next minute', status: 200, body: json({ rule: '/users/:id', name: 'Users' }) })
    expect(again.status).toBe(200)
    expect(JSON.parse(again.text)).toEqual({ message: 'Route modified', route: { rule: '/users/:id', name: 'Users', doc: '' } })
    expect(app.logger.lines).toEqual([])
  })
})
