// The configure API over real HTTP: every row of its error table, renames, deletes and restarts.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ServerStatusError } from '../src/errors.js'
import { serverStatus } from '../src/express/index.js'
import type { StatusHandle, StatusReport } from '../src/types.js'
import { EXPRESSES, hit, listen, memoryLogger, tempSqlite, type Running } from './support.js'

const SECRET = 'correct-horse-battery-staple'
const AUTH = `Bearer ${SECRET}`
const API = '/server-status/configure'
const KIB16 = 16 * 1024

type Express = (typeof EXPRESSES)[number]['express']

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

interface Send {
  method?: string
  headers?: Record<string, string>
  /** Sent with a Content-Length, or chunked when `chunked` is set. */
  body?: string
  /** Sends the body in pieces of this many bytes, with `Transfer-Encoding: chunked`. */
  chunked?: number
}

/** One HTTP request on a fresh connection, with full control over headers and framing. */
function send(url: string, path: string, { method = 'PUT', headers = {}, body, chunked }: Send = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string> = { ...headers }
    if (body !== undefined && chunked === undefined) all['content-length'] = String(Buffer.byteLength(body))
    const req = httpRequest(`${url}${path}`, { method, headers: all, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    if (body !== undefined && chunked !== undefined) {
      const bytes = Buffer.from(body)
      for (let at = 0; at < bytes.length; at += chunked) req.write(bytes.subarray(at, at + chunked))
    } else if (body !== undefined) {
      req.write(body)
    }
    req.end()
  })
}

/** A configure call with the right token and a JSON body. */
function configure(url: string, method: 'PUT' | 'DELETE', value: unknown, extra: Send = {}): Promise<Reply> {
  return send(url, API, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json', ...extra.headers },
    body: JSON.stringify(value),
    ...(extra.chunked === undefined ? {} : { chunked: extra.chunked }),
  })
}

/** The JSON report without its timestamp, so two reads of an unchanged state are equal. */
async function state(url: string): Promise<Omit<StatusReport, 'generatedAt'>> {
  const res = await fetch(`${url}/status/api/routes`)
  expect(res.status).toBe(200)
  const { generatedAt, ...rest } = (await res.json()) as StatusReport
  expect(typeof generatedAt).toBe('string')
  return rest
}

async function page(url: string): Promise<string> {
  const res = await fetch(`${url}/status`)
  expect(res.status).toBe(200)
  return res.text()
}

function routeOf(report: Omit<StatusReport, 'generatedAt'>, rule: string) {
  return report.routes.find((route) => route.rule === rule)
}

function errorOf(reply: Reply): string {
  expect(reply.headers['content-type']).toBe('application/json; charset=utf-8')
  const body = JSON.parse(reply.text) as Record<string, unknown>
  expect(Object.keys(body)).toEqual(['error'])
  expect(typeof body.error).toBe('string')
  return body.error as string
}

interface App {
  url: string
  status: StatusHandle
  running: Running
  stop(): Promise<void>
}

/** An app with `/`, `/users/:id`, `/gone` and a router at `/hello`, on `database`. */
async function startApp(express: Express, database: string, options: Parameters<typeof serverStatus>[1] = {}, before?: (app: any) => void): Promise<App> {
  const app = express()
  before?.(app)
  const status = serverStatus(app, { database, logger: false, api: { secret: SECRET }, ...options })
  app.get('/', function index(_req: any, res: any) {
    res.send('Welcome to API!')
  })
  app.get('/users/:id', (req: any, res: any) => {
    res.json({ id: req.params.id })
  })
  app.get('/gone', (_req: any, res: any) => {
    res.send('soon gone')
  })
  const router = express.Router()
  router.get('/world', (_req: any, res: any) => {
    res.send('Hello World!')
  })
  app.use('/hello', router)
  const running = await listen(app)
  return {
    url: running.url,
    status,
    running,
    stop: async () => {
      await running.close()
      await status.close()
    },
  }
}

function rowsOf(path: string, rule: string): { minutes: number; days: number } {
  const db = new Database(path, { readonly: true })
  try {
    const count = (table: string) => (db.prepare(`select count(*) as n from ${table} where rule = ?`).get(rule) as { n: number }).n
    return { minutes: count('server_status_minutes'), days: count('server_status_days') }
  } finally {
    db.close()
  }
}

/** An app with traffic on three routes, some of it flushed, and `/` named through the API. */
async function seededApp(express: Express, database: string): Promise<App> {
  const app = await startApp(express, database)
  await hit(`${app.url}/`, 3)
  await hit(`${app.url}/users/7`, 2)
  await hit(`${app.url}/gone`, 1)
  await app.status.flush()
  await hit(`${app.url}/`, 1)
  const named = await configure(app.url, 'PUT', { rule: '/', name: 'Home', doc: 'The front page.' })
  expect(named.status).toBe(200)
  return app
}

for (const { name, express } of EXPRESSES) {
  describe(`configure API errors on ${name}`, () => {
    const db = tempSqlite()
    let app: App

    beforeAll(async () => {
      app = await seededApp(express, db.url)
    })

    afterAll(async () => {
      await app.stop()
      db.cleanup()
    })

    /** Sends `call`, expects `status` and an error matching `message`, and proves the JSON did not change. */
    async function refused(call: () => Promise<Reply>, status: number, message: RegExp): Promise<Reply> {
      const before = await state(app.url)
      const reply = await call()
      expect(reply.status).toBe(status)
      expect(errorOf(reply)).toMatch(message)
      expect(await state(app.url)).toEqual(before)
      return reply
    }

    it('starts from a known state that the refused calls below would change', async () => {
      const report = await state(app.url)
      expect(report.routes.map((r) => r.rule)).toEqual(['/', '/users/:id', '/gone', '/hello/world'])
      expect(routeOf(report, '/')).toMatchObject({ name: 'Home', doc: 'The front page.', success: 4, failure: 0 })
      expect(routeOf(report, '/users/:id')).toMatchObject({ name: '/users/:id', success: 2 })
      expect(routeOf(report, '/gone')).toMatchObject({ success: 1 })
    })

    describe('401', () => {
      const rename = { rule: '/', name: 'Hacked' }
      // failed tokens count towards a per-address limit, so each test has an app of its own
      let shared: App
      let own: ReturnType<typeof tempSqlite>

      beforeEach(async () => {
        shared = app
        own = tempSqlite()
        app = await seededApp(express, own.url)
      })

      afterEach(async () => {
        await app.stop()
        own.cleanup()
        app = shared
      })

      it('refuses a PUT and a DELETE without an Authorization header', async () => {
        for (const method of ['PUT', 'DELETE'] as const) {
          const reply = await refused(
            () => send(app.url, API, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(method === 'PUT' ? rename : { rule: '/gone' }) }),
            401,
            /token/,
          )
          expect(reply.headers['www-authenticate']).toBe('Bearer')
        }
      })

      it('refuses a wrong token', async () => {
        await refused(() => configure(app.url, 'PUT', rename, { headers: { authorization: 'Bearer wrong' } }), 401, /token/)
        await refused(() => configure(app.url, 'DELETE', { rule: '/gone' }, { headers: { authorization: 'Bearer wrong' } }), 401, /token/)
      })

      it('refuses "Bearer" with no token', async () => {
        await refused(() => configure(app.url, 'PUT', rename, { headers: { authorization: 'Bearer' } }), 401, /token/)
        await refused(() => configure(app.url, 'PUT', rename, { headers: { authorization: 'Bearer ' } }), 401, /token/)
      })

      it('refuses a token of the right length that differs in one character', async () => {
        const almost = `${SECRET.slice(0, -1)}${SECRET.endsWith('e') ? 'f' : 'e'}`
        expect(almost).toHaveLength(SECRET.length)
        await refused(() => configure(app.url, 'PUT', rename, { headers: { authorization: `Bearer ${almost}` } }), 401, /token/)
        await refused(() => configure(app.url, 'DELETE', { rule: '/gone' }, { headers: { authorization: `Bearer ${almost}` } }), 401, /token/)
      })

      it('refuses the secret sent under another scheme or with text around it', async () => {
        await refused(() => configure(app.url, 'PUT', rename, { headers: { authorization: `Basic ${SECRET}` } }), 401, /token/)
        await refused(() => configure(app.url, 'PUT', rename, { headers: { authorization: SECRET } }), 401, /token/)
        await refused(() => configure(app.url, 'PUT', rename, { headers: { authorization: `Bearer ${SECRET}x` } }), 401, /token/)
      })

      it('answers 429 with Retry-After once an address has failed 10 times in a minute, and changes nothing', async () => {
        for (let i = 0; i < 10; i++) {
          const reply = await configure(app.url, 'PUT', rename, { headers: { authorization: `Bearer wrong-${i}` } })
          expect(reply.status).toBe(401)
        }
        const reply = await refused(() => configure(app.url, 'DELETE', { rule: '/gone' }, { headers: { authorization: 'Bearer wrong' } }), 429, /too many failed authentications/)
        expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0)
        expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(60)
      })
    })

    describe('400', () => {
      const json = (body: string, method = 'PUT') => () =>
        send(app.url, API, { method, headers: { authorization: AUTH, 'content-type': 'application/json' }, body })

      it('refuses malformed JSON', async () => {
        await refused(json('{"rule": "/", "name": "Hacked"'), 400, /^malformed JSON body$/)
        await refused(json(''), 400, /^malformed JSON body$/)
      })

      it('refuses a body without "rule"', async () => {
        await refused(json('{"name": "Hacked"}'), 400, /^missing field "rule"$/)
        await refused(json('{}', 'DELETE'), 400, /^missing field "rule"$/)
      })

      it('refuses "rule" given as a number', async () => {
        await refused(json('{"rule": 1, "name": "Hacked"}'), 400, /^field "rule" must be a string$/)
      })

      it('refuses "name" and "doc" given as numbers', async () => {
        await refused(json('{"rule": "/", "name": 5}'), 400, /^field "name" must be a string$/)
        await refused(json('{"rule": "/", "doc": 5}'), 400, /^field "doc" must be a string$/)
        await refused(json('{"rule": "/", "name": "Hacked", "doc": null}'), 400, /^field "doc" must be a string$/)
      })

      it('refuses an unknown field, and a name sent with a DELETE', async () => {
        await refused(json('{"rule": "/", "name": "Hacked", "id": 1}'), 400, /^unknown field "id"$/)
        await refused(json('{"rule": "/gone", "name": "x"}', 'DELETE'), 400, /^unknown field "name"$/)
      })

      it('refuses a body that is an array, a string, a number or null', async () => {
        for (const body of ['[{"rule": "/", "name": "Hacked"}]', '"/"', '1', 'null']) {
          await refused(json(body), 400, /JSON object/)
        }
        await refused(json('[{"rule": "/gone"}]', 'DELETE'), 400, /JSON object/)
      })
    })

    describe('404', () => {
      it('refuses a rule the app does not have, and does not add it', async () => {
        await refused(() => configure(app.url, 'PUT', { rule: '/nope', name: 'Nope' }), 404, /^no route "\/nope" in this app$/)
        await refused(() => configure(app.url, 'DELETE', { rule: '/nope' }), 404, /^no route "\/nope" in this app$/)
        expect(routeOf(await state(app.url), '/nope')).toBeUndefined()
      })

      it('refuses a path that a rule matches but is not the rule', async () => {
        await refused(() => configure(app.url, 'PUT', { rule: '/users/7', name: 'Seven' }), 404, /no route "\/users\/7"/)
        await refused(() => configure(app.url, 'DELETE', { rule: '/hello' }), 404, /no route "\/hello"/)
      })
    })

    describe('413', () => {
      /** A valid rename padded with spaces to exactly `bytes` bytes. */
      const padded = (bytes: number) => {
        const body = JSON.stringify({ rule: '/', name: 'Hacked' })
        return body + ' '.repeat(bytes - Buffer.byteLength(body))
      }
      const big = JSON.stringify({ rule: '/', name: 'Hacked', doc: 'x'.repeat(KIB16) })

      it('refuses a body over 16 KiB sent with a Content-Length', async () => {
        const body = padded(KIB16 + 1)
        expect(Buffer.byteLength(body)).toBe(16385)
        await refused(() => send(app.url, API, { headers: { authorization: AUTH, 'content-type': 'application/json' }, body }), 413, /16 KiB/)
        await refused(() => send(app.url, API, { headers: { authorization: AUTH, 'content-type': 'application/json' }, body: big }), 413, /16 KiB/)
      })

      it('refuses a body over 16 KiB sent chunked', async () => {
        const body = padded(KIB16 + 1)
        await refused(() => send(app.url, API, { headers: { authorization: AUTH, 'content-type': 'application/json' }, body, chunked: 1000 }), 413, /16 KiB/)
        await refused(() => send(app.url, API, { headers: { authorization: AUTH, 'content-type': 'application/json' }, body: big, chunked: 4096 }), 413, /16 KiB/)
      })

      it('accepts a body of exactly 16 KiB, with a Content-Length and chunked', async () => {
        for (const chunked of [undefined, 1000]) {
          const body = padded(KIB16).replace('Hacked', 'Home')
          const reply = await send(app.url, API, {
            headers: { authorization: AUTH, 'content-type': 'application/json' },
            body,
            ...(chunked === undefined ? {} : { chunked }),
          })
          expect(reply.status).toBe(200)
          expect(JSON.parse(reply.text)).toEqual({ message: 'Route modified', route: { rule: '/', name: 'Home', doc: 'The front page.' } })
        }
      })
    })

    describe('415', () => {
      const body = JSON.stringify({ rule: '/', name: 'Hacked' })

      it('refuses a JSON text sent as text/plain', async () => {
        await refused(() => send(app.url, API, { headers: { authorization: AUTH, 'content-type': 'text/plain' }, body }), 415, /Content-Type: application\/json/)
      })

      it('refuses a body without a Content-Type', async () => {
        await refused(() => send(app.url, API, { headers: { authorization: AUTH }, body }), 415, /Content-Type: application\/json/)
      })

      it('refuses a form body', async () => {
        await refused(
          () => send(app.url, API, { method: 'DELETE', headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body: 'rule=%2Fgone' }),
          415,
          /JSON/,
        )
      })
    })

    describe('405', () => {
      it('refuses GET, POST and PATCH with an Allow header, even with the right token', async () => {
        const body = JSON.stringify({ rule: '/', name: 'Hacked' })
        for (const method of ['GET', 'POST', 'PATCH']) {
          const reply = await refused(
            () => send(app.url, API, { method, headers: { authorization: AUTH, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body }) }),
            405,
            new RegExp(`^method ${method} is not allowed`),
          )
          expect(reply.headers.allow).toBe('PUT, DELETE')
        }
      })
    })

    it('does not count API calls as traffic of any route', async () => {
      const report = await state(app.url)
      expect(report.unmatched).toBe(0)
      expect(report.routes.map((r) => r.rule)).toEqual(['/', '/users/:id', '/gone', '/hello/world'])
      expect(report.routes.reduce((n, r) => n + r.success + r.failure + r.ignored, 0)).toBe(7)
    })
  })

  describe(`configure API changes on ${name}`, () => {
    let db: ReturnType<typeof tempSqlite>
    const apps: App[] = []
    const start = async (...args: Parameters<typeof startApp> extends [Express, string, ...infer R] ? R : never) => {
      const app = await startApp(express, db.url, ...args)
      apps.push(app)
      return app
    }

    beforeEach(() => {
      db = tempSqlite()
    })

    afterEach(async () => {
      for (const app of apps.splice(0)) await app.stop()
      db.cleanup()
    })

    it('renames a route with PUT: the name shows in the answer, the JSON and the page', async () => {
      const app = await start()
      await hit(`${app.url}/users/1`, 2)
      const reply = await configure(app.url, 'PUT', { rule: '/users/:id', name: 'Users' })
      expect(reply.status).toBe(200)
      expect(reply.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(JSON.parse(reply.text)).toEqual({ message: 'Route modified', route: { rule: '/users/:id', name: 'Users', doc: '' } })
      const report = await state(app.url)
      expect(routeOf(report, '/users/:id')).toMatchObject({ name: 'Users', doc: '', success: 2, failure: 0 })
      expect(await page(app.url)).toContain('<h2 class="route-name" id="route-1">Users</h2>')
    })

    it('sets only the doc with a PUT that has no name, keeping the name', async () => {
      const app = await start()
      expect((await configure(app.url, 'PUT', { rule: '/users/:id', name: 'Users' })).status).toBe(200)
      const reply = await configure(app.url, 'PUT', { rule: '/users/:id', doc: 'One user by id.' })
      expect(JSON.parse(reply.text)).toEqual({ message: 'Route modified', route: { rule: '/users/:id', name: 'Users', doc: 'One user by id.' } })
      expect(routeOf(await state(app.url), '/users/:id')).toMatchObject({ name: 'Users', doc: 'One user by id.' })
      // a name taken from the handler's function name stays too
      const index = await configure(app.url, 'PUT', { rule: '/', doc: 'Front page.' })
      expect(JSON.parse(index.text)).toEqual({ message: 'Route modified', route: { rule: '/', name: 'index', doc: 'Front page.' } })
      const html = await page(app.url)
      expect(html).toContain('<h2 class="route-name" id="route-1">Users</h2>')
      expect(html).toContain('<p class="route-doc">One user by id.</p>')
    })

    it('renames a route of a mounted router', async () => {
      const app = await start()
      const reply = await configure(app.url, 'PUT', { rule: '/hello/world', name: 'Hello World!' })
      expect(JSON.parse(reply.text)).toEqual({ message: 'Route modified', route: { rule: '/hello/world', name: 'Hello World!', doc: '' } })
      expect(routeOf(await state(app.url), '/hello/world')?.name).toBe('Hello World!')
    })

    it('deletes a route: its history is gone and it is hidden from the JSON and the page', async () => {
      const app = await start()
      await hit(`${app.url}/gone`, 3)
      await app.status.flush()
      await hit(`${app.url}/gone`, 2)
      expect(routeOf(await state(app.url), '/gone')).toMatchObject({ success: 5 })
      expect(await page(app.url)).toContain('data-rule="/gone"')

      const reply = await configure(app.url, 'DELETE', { rule: '/gone' })
      expect(reply.status).toBe(200)
      expect(JSON.parse(reply.text)).toEqual({ message: 'Route deleted' })

      const report = await state(app.url)
      expect(report.routes.map((r) => r.rule)).toEqual(['/', '/users/:id', '/hello/world'])
      expect(await page(app.url)).not.toContain('data-rule="/gone"')
      // the route still answers; its new traffic is not shown
      await hit(`${app.url}/gone`, 2)
      expect(routeOf(await state(app.url), '/gone')).toBeUndefined()
      await app.status.flush()
      expect(routeOf(await state(app.url), '/gone')).toBeUndefined()
      expect(await app.status.report()).toMatchObject({ routes: report.routes.map((r) => ({ rule: r.rule })) })

      await apps.pop()!.stop()
      expect(rowsOf(db.path, '/gone')).toEqual({ minutes: 0, days: 0 })
    })

    it('keeps a deleted route hidden after a restart on the same file, even with new traffic, until a PUT brings it back with no old history', async () => {
      const first = await start()
      await hit(`${first.url}/gone`, 4)
      await first.status.flush()
      expect((await configure(first.url, 'DELETE', { rule: '/gone' })).status).toBe(200)
      await first.stop()
      apps.splice(0)

      const second = await start()
      expect(routeOf(await state(second.url), '/gone')).toBeUndefined()
      await hit(`${second.url}/gone`, 3)
      expect(routeOf(await state(second.url), '/gone')).toBeUndefined()
      await second.status.flush()
      expect(routeOf(await state(second.url), '/gone')).toBeUndefined()
      expect(await page(second.url)).not.toContain('data-rule="/gone"')
      await hit(`${second.url}/gone`, 1)

      const reply = await configure(second.url, 'PUT', { rule: '/gone', name: 'Back again' })
      expect(reply.status).toBe(200)
      expect(JSON.parse(reply.text)).toEqual({ message: 'Route modified', route: { rule: '/gone', name: 'Back again', doc: '' } })
      const back = routeOf(await state(second.url), '/gone')
      expect(back).toMatchObject({ name: 'Back again', success: 0, failure: 0, ignored: 0, uptime: null, status: 'no_data' })
      expect(back?.days.every((day) => day.success + day.failure + day.ignored === 0)).toBe(true)
      expect(await page(second.url)).toContain('data-rule="/gone"')

      await hit(`${second.url}/gone`, 2)
      expect(routeOf(await state(second.url), '/gone')).toMatchObject({ success: 2, failure: 0 })
      await second.stop()
      apps.splice(0)

      const third = await start()
      expect(routeOf(await state(third.url), '/gone')).toMatchObject({ name: 'Back again', success: 2, failure: 0 })
    })
  })

  describe(`turning the configure API on and off on ${name}`, () => {
    const db = tempSqlite()
    const saved = process.env.SERVER_STATUS_API_SECRET
    const apps: App[] = []

    afterEach(async () => {
      if (saved === undefined) delete process.env.SERVER_STATUS_API_SECRET
      else process.env.SERVER_STATUS_API_SECRET = saved
      for (const app of apps.splice(0)) await app.stop()
    })

    afterAll(() => db.cleanup())

    it('accepts a secret with spaces and other characters, sent as it is', async () => {
      const secret = 'correct horse battery staple & more'
      const own = tempSqlite()
      const app = await startApp(express, own.url, { api: { secret } })
      apps.push({ ...app, stop: async () => (await app.stop(), own.cleanup()) })
      const res = await fetch(`${app.url}/server-status/configure`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rule: '/', name: 'Spaced' }),
      })
      expect(res.status).toBe(200)
      expect(routeOf(await state(app.url), '/')).toMatchObject({ name: 'Spaced' })
    })

    it('is off without a secret: the path is the app\'s own and Express answers 404', async () => {
      delete process.env.SERVER_STATUS_API_SECRET
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false })
      app.get('/', (_req: any, res: any) => res.send('ok'))
      const running = await listen(app)
      apps.push({ url: running.url, status, running, stop: async () => (await running.close(), await status.close()) })
      const before = await state(running.url)
      const reply = await configure(running.url, 'PUT', { rule: '/', name: 'Hacked' })
      expect(reply.status).toBe(404)
      expect(reply.headers['content-type']).toMatch(/^text\/html/)
      expect(reply.text).toContain(`Cannot PUT ${API}`)
      // an unmatched request of the app, like any other path it does not serve
      expect(await state(running.url)).toEqual({ ...before, unmatched: before.unmatched + 1 })
      expect(routeOf(before, '/')?.name).toBe('/')
    })

    it('leaves the path to a route of the app when the API is off', async () => {
      delete process.env.SERVER_STATUS_API_SECRET
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false })
      app.put(API, (_req: any, res: any) => res.status(202).send('the app itself'))
      const running = await listen(app)
      apps.push({ url: running.url, status, running, stop: async () => (await running.close(), await status.close()) })
      const reply = await configure(running.url, 'PUT', { rule: '/', name: 'Hacked' })
      expect(reply.status).toBe(202)
      expect(reply.text).toBe('the app itself')
    })

    it('is on with SERVER_STATUS_API_SECRET', async () => {
      process.env.SERVER_STATUS_API_SECRET = SECRET
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false })
      app.get('/', (_req: any, res: any) => res.send('ok'))
      const running = await listen(app)
      apps.push({ url: running.url, status, running, stop: async () => (await running.close(), await status.close()) })
      const reply = await configure(running.url, 'PUT', { rule: '/', name: 'From env' })
      expect(reply.status).toBe(200)
      expect(routeOf(await state(running.url), '/')?.name).toBe('From env')
      expect((await configure(running.url, 'PUT', { rule: '/', name: 'x' }, { headers: { authorization: 'Bearer nope' } })).status).toBe(401)
    })

    it('moves to api.prefix', async () => {
      const app = await startApp(express, db.url, { api: { secret: SECRET, prefix: '/admin/status-api' } })
      apps.push(app)
      const moved = await send(app.url, '/admin/status-api/configure', {
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ rule: '/users/:id', name: 'Moved' }),
      })
      expect(moved.status).toBe(200)
      expect(JSON.parse(moved.text)).toEqual({ message: 'Route modified', route: { rule: '/users/:id', name: 'Moved', doc: '' } })
      const old = await configure(app.url, 'PUT', { rule: '/users/:id', name: 'Old path' })
      expect(old.status).toBe(404)
      expect(old.text).toContain(`Cannot PUT ${API}`)
      expect(routeOf(await state(app.url), '/users/:id')?.name).toBe('Moved')
      const wrongMethod = await send(app.url, '/admin/status-api/configure', { method: 'GET' })
      expect(wrongMethod.status).toBe(405)
      expect(wrongMethod.headers.allow).toBe('PUT, DELETE')
    })

    it('refuses a secret shorter than 16 characters at start, from the option and from the environment', () => {
      delete process.env.SERVER_STATUS_API_SECRET
      const short = 'a'.repeat(15)
      expect(() => serverStatus(express(), { database: db.url, logger: false, api: { secret: short } })).toThrow(ServerStatusError)
      expect(() => serverStatus(express(), { database: db.url, logger: false, api: { secret: short } })).toThrow(
        /option "api\.secret" must be a secret of at least 16 characters \(got 15\)/,
      )
      expect(() => serverStatus(express(), { database: db.url, logger: false, api: { secret: '' } })).toThrow(/option "api\.secret" must be a secret of at least 16 characters/)
      process.env.SERVER_STATUS_API_SECRET = short
      expect(() => serverStatus(express(), { database: db.url, logger: false })).toThrow(
        /"SERVER_STATUS_API_SECRET" must be a secret of at least 16 characters \(got 15\)/,
      )
    })

    it('accepts a secret of exactly 16 characters', async () => {
      delete process.env.SERVER_STATUS_API_SECRET
      const secret = 'b'.repeat(16)
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false, api: { secret } })
      app.get('/', (_req: any, res: any) => res.send('ok'))
      const running = await listen(app)
      apps.push({ url: running.url, status, running, stop: async () => (await running.close(), await status.close()) })
      const reply = await configure(running.url, 'PUT', { rule: '/', name: 'Sixteen' }, { headers: { authorization: `Bearer ${secret}` } })
      expect(reply.status).toBe(200)
    })
  })

  describe(`the configure API behind express.json() on ${name}`, () => {
    const db = tempSqlite()
    let app: App
    const logger = memoryLogger()

    beforeAll(async () => {
      app = await startApp(express, db.url, { logger }, (host) => {
        host.use(express.json())
        host.post('/echo', (req: any, res: any) => res.json(req.body))
      })
    })

    afterAll(async () => {
      await app.stop()
      db.cleanup()
    })

    it('renames and deletes routes with a body the app already parsed', async () => {
      const renamed = await configure(app.url, 'PUT', { rule: '/users/:id', name: 'Users', doc: 'By id.' })
      expect(renamed.status).toBe(200)
      expect(JSON.parse(renamed.text)).toEqual({ message: 'Route modified', route: { rule: '/users/:id', name: 'Users', doc: 'By id.' } })
      const deleted = await configure(app.url, 'DELETE', { rule: '/gone' })
      expect(JSON.parse(deleted.text)).toEqual({ message: 'Route deleted' })
      const report = await state(app.url)
      expect(routeOf(report, '/users/:id')).toMatchObject({ name: 'Users', doc: 'By id.' })
      expect(routeOf(report, '/gone')).toBeUndefined()
    })

    it('still refuses bad calls and changes nothing', async () => {
      const before = await state(app.url)
      const unknown = await configure(app.url, 'PUT', { rule: '/', name: 'Hacked', id: 1 })
      expect(unknown.status).toBe(400)
      expect(errorOf(unknown)).toBe('unknown field "id"')
      const missing = await configure(app.url, 'PUT', { rule: '/nope', name: 'Hacked' })
      expect(missing.status).toBe(404)
      const wrong = await configure(app.url, 'PUT', { rule: '/', name: 'Hacked' }, { headers: { authorization: 'Bearer nope' } })
      expect(wrong.status).toBe(401)
      const big = await configure(app.url, 'PUT', { rule: '/', name: 'Hacked', doc: 'x'.repeat(KIB16) })
      expect(big.status).toBe(413)
      expect(errorOf(big)).toMatch(/16 KiB/)
      const plain = await send(app.url, API, { headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: '{"rule":"/","name":"Hacked"}' })
      expect(plain.status).toBe(415)
      const malformed = await send(app.url, API, { headers: { authorization: AUTH, 'content-type': 'application/json' }, body: '{"rule":' })
      expect(malformed.status).toBe(400)
      expect(await state(app.url)).toEqual(before)
    })

    it('leaves the app\'s own parsed bodies alone', async () => {
      const res = await fetch(`${app.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ a: 1 })
      expect(logger.lines).toEqual([])
    })
  })
}
