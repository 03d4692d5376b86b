// Routing on Express 4 and 5: templates, mounted and nested routers, discovery, unmatched paths, the page's own paths.

import { randomBytes } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import type { ServerStatusOptions, StatusHandle, StatusReport } from '../src/types.js'
import { cleanupAfterEach, countsOf, EXPRESSES, hit, listen, memoryLogger, routeOf, tempSqlite, type Running } from './support.js'

function rules(report: StatusReport): string[] {
  return report.routes.map((r) => r.rule)
}

async function get(url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, init)
  await res.arrayBuffer()
  return res
}

async function readJson(url: string): Promise<StatusReport> {
  const res = await fetch(url)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  return (await res.json()) as StatusReport
}

for (const { name, express } of EXPRESSES) {
  describe(`routing on ${name}`, () => {
    const cleanups = cleanupAfterEach()

    /** An app with server-status on a fresh SQLite file; `define` adds the routes. */
    async function start(define: (app: ReturnType<typeof express>) => void, options: ServerStatusOptions = {}) {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const app = express()
      const status: StatusHandle = serverStatus(app, { database: db.url, logger: memoryLogger(), ...options })
      cleanups.push(() => status.close())
      define(app)
      const server = await listen(app)
      cleanups.push(() => server.close())
      return { app, status, server, json: () => readJson(`${server.url}${options.urlPrefix ?? '/status'}/api/routes`) }
    }

    it('counts /users/42 under /users/:id', async () => {
      const { server, json } = await start((app) => {
        app.get('/users/:id', (req, res) => void res.send(`user ${req.params.id}`))
      })
      for (const id of ['42', '7', 'abc']) {
        const res = await fetch(`${server.url}/users/${id}`)
        expect(await res.text()).toBe(`user ${id}`)
      }
      const report = await json()
      expect(rules(report)).toEqual(['/users/:id'])
      expect(countsOf(routeOf(report, '/users/:id'))).toEqual({ success: 3, failure: 0, ignored: 0 })
      expect(report.unmatched).toBe(0)
    })

    it('counts a route of a router mounted at /hello under /hello/world', async () => {
      const { server, json } = await start((app) => {
        const router = express.Router()
        router.get('/world', (_req, res) => void res.send('hello world'))
        router.get('/', (_req, res) => void res.send('hello'))
        app.use('/hello', router)
      })
      expect(await (await fetch(`${server.url}/hello/world`)).text()).toBe('hello world')
      expect(await (await fetch(`${server.url}/hello`)).text()).toBe('hello')
      await get(`${server.url}/hello/world`)
      const report = await json()
      expect(rules(report)).toEqual(['/hello/world', '/hello'])
      expect(countsOf(routeOf(report, '/hello/world'))).toEqual({ success: 2, failure: 0, ignored: 0 })
      expect(countsOf(routeOf(report, '/hello'))).toEqual({ success: 1, failure: 0, ignored: 0 })
    })

    it('counts a router mounted at a parameterised path under the template, not the value', async () => {
      const { server, json } = await start((app) => {
        const repos = express.Router({ mergeParams: true })
        repos.get('/:repo', (req, res) => void res.json(req.params))
        app.use('/orgs/:org/repos', repos)
      })
      const res = await fetch(`${server.url}/orgs/acme/repos/rocket`)
      expect(await res.json()).toEqual({ org: 'acme', repo: 'rocket' })
      await get(`${server.url}/orgs/globex/repos/widget`)
      await get(`${server.url}/orgs/initech/repos/tps`)
      const report = await json()
      expect(rules(report)).toEqual(['/orgs/:org/repos/:repo'])
      expect(countsOf(routeOf(report, '/orgs/:org/repos/:repo'))).toEqual({ success: 3, failure: 0, ignored: 0 })
      expect(report.unmatched).toBe(0)
    })

    it('counts routes of nested routers under the full template', async () => {
      const { server, json } = await start((app) => {
        const api = express.Router()
        const v1 = express.Router()
        const items = express.Router({ mergeParams: true })
        items.get('/:id', (_req, res) => void res.send('item'))
        items.delete('/:id', (_req, res) => void res.status(404).send('gone'))
        v1.use('/items', items)
        v1.get('/health', (_req, res) => void res.send('ok'))
        api.use('/v1', v1)
        app.use('/api', api)
      })
      await get(`${server.url}/api/v1/items/1`)
      await get(`${server.url}/api/v1/items/2`)
      expect((await get(`${server.url}/api/v1/items/3`, { method: 'DELETE' })).status).toBe(404)
      await get(`${server.url}/api/v1/health`)
      const report = await json()
      expect(rules(report)).toEqual(['/api/v1/items/:id', '/api/v1/health'])
      expect(countsOf(routeOf(report, '/api/v1/items/:id'))).toEqual({ success: 2, failure: 1, ignored: 0 })
      expect(countsOf(routeOf(report, '/api/v1/health'))).toEqual({ success: 1, failure: 0, ignored: 0 })
    })

    it('shows routes and routers defined after serverStatus(app) before any traffic, as no_data', async () => {
      const { app, server, json } = await start((app) => {
        app.get('/', (_req, res) => void res.send('home'))
        const admin = express.Router()
        admin.post('/users/:id/ban', (_req, res) => void res.send('banned'))
        app.use('/admin', admin)
      })
      // defined after the server started listening, too
      app.put('/late/:id', (_req, res) => void res.send('late'))
      const lateRouter = express.Router()
      lateRouter.get('/ping', (_req, res) => void res.send('pong'))
      app.use('/later', lateRouter)

      const report = await json()
      expect(rules(report)).toEqual(['/', '/admin/users/:id/ban', '/late/:id', '/later/ping'])
      for (const route of report.routes) {
        expect(route).toMatchObject({ status: 'no_data', uptime: null, success: 0, failure: 0, ignored: 0 })
        expect(route.days).toHaveLength(30)
        expect(route.days.every((d) => d.status === 'no_data' && d.success + d.failure + d.ignored === 0)).toBe(true)
      }
      expect(report.status).toBe('operational')

      await get(`${server.url}/later/ping`)
      expect(countsOf(routeOf(await json(), '/later/ping'))).toEqual({ success: 1, failure: 0, ignored: 0 })
    })

    it('counts 1,000 random unmatched paths as unmatched and creates no route', async () => {
      const { status, server, json } = await start((app) => {
        app.get('/', (_req, res) => void res.send('home'))
        app.get('/users/:id', (_req, res) => void res.send('user'))
      })
      const before = await json()
      expect(rules(before)).toEqual(['/', '/users/:id'])
      const paths = Array.from({ length: 1000 }, (_, i) => `/${randomBytes(6).toString('hex')}/${i}${i % 3 === 0 ? '/x.php' : ''}`)
      let next = 0
      const statuses: number[] = []
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < paths.length) {
            const res = await get(`${server.url}${paths[next++]}`)
            statuses.push(res.status)
          }
        }),
      )
      expect(statuses.filter((s) => s === 404)).toHaveLength(1000)

      const after = await json()
      expect(after.unmatched).toBe(1000)
      expect(rules(after)).toEqual(['/', '/users/:id'])
      for (const route of after.routes) expect(countsOf(route)).toEqual({ success: 0, failure: 0, ignored: 0 })

      await status.flush()
      const flushed = await json()
      expect(flushed.unmatched).toBe(1000)
      expect(rules(flushed)).toEqual(['/', '/users/:id'])
    })

    it('does not monitor or count the page, its assets, its JSON or the configure API', async () => {
      const secret = 'a-secret-of-32-characters-long!!'
      const { status, server, json } = await start(
        (app) => {
          app.get('/', (_req, res) => void res.send('home'))
        },
        { api: { secret } },
      )
      expect((await get(`${server.url}/status`)).status).toBe(200)
      expect((await get(`${server.url}/status/`)).status).toBe(200)
      expect((await get(`${server.url}/status?x=1`)).status).toBe(200)
      expect((await get(`${server.url}/status/api/routes`)).status).toBe(200)
      expect((await get(`${server.url}/status/assets/status.css`)).status).toBe(200)
      expect((await get(`${server.url}/status/assets/status.css`, { method: 'HEAD' })).status).toBe(200)
      expect((await get(`${server.url}/server-status/configure`, { method: 'PUT' })).status).toBe(401)
      const put = await get(`${server.url}/server-status/configure`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rule: '/', name: 'Home' }),
      })
      expect(put.status).toBe(200)

      const report = await json()
      expect(rules(report)).toEqual(['/'])
      expect(countsOf(routeOf(report, '/'))).toEqual({ success: 0, failure: 0, ignored: 0 })
      expect(report.unmatched).toBe(0)

      await status.flush()
      const flushed = await json()
      expect(rules(flushed)).toEqual(['/'])
      expect(flushed.unmatched).toBe(0)
    })

    it('shows only the rules of the routes option, in its order', async () => {
      const { server, json } = await start(
        (app) => {
          app.get('/a', (_req, res) => void res.send('a'))
          app.get('/b', (_req, res) => void res.send('b'))
          app.get('/c', (_req, res) => void res.send('c'))
          app.get('/users/:id', (_req, res) => void res.send('user'))
        },
        { routes: ['/users/:id', '/a'] },
      )
      await get(`${server.url}/a`)
      await get(`${server.url}/c`)
      await get(`${server.url}/users/1`)
      await get(`${server.url}/users/2`)
      const report = await json()
      expect(rules(report)).toEqual(['/users/:id', '/a'])
      expect(countsOf(routeOf(report, '/users/:id'))).toEqual({ success: 2, failure: 0, ignored: 0 })
      expect(countsOf(routeOf(report, '/a'))).toEqual({ success: 1, failure: 0, ignored: 0 })
      const page = await (await fetch(`${server.url}/status`)).text()
      expect(page).toContain('/users/:id')
      expect(page).not.toContain('>/c<')
    })

    it('moves the page and its JSON to urlPrefix', async () => {
      const { server, json } = await start(
        (app) => {
          app.get('/', (_req, res) => void res.send('home'))
        },
        { urlPrefix: '/ops/health' },
      )
      const page = await fetch(`${server.url}/ops/health`)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      expect(await page.text()).toContain('System Status')
      expect((await get(`${server.url}/ops/health/assets/status.css`)).status).toBe(200)
      // the old place is now an ordinary unmatched path of the app
      expect((await get(`${server.url}/status`)).status).toBe(404)
      expect((await get(`${server.url}/status/api/routes`)).status).toBe(404)
      const report = await json()
      expect(rules(report)).toEqual(['/'])
      expect(report.unmatched).toBe(2)
    })

    it('counts every method under its route', async () => {
      const { server, json } = await start((app) => {
        app.get('/items/:id', (_req, res) => void res.send('got'))
        app.post('/items/:id', (_req, res) => void res.status(201).send('made'))
        app.put('/items/:id', (_req, res) => void res.send('put'))
        app.delete('/items/:id', (_req, res) => void res.status(204).end())
        app.patch('/items/:id', (_req, res) => void res.send('patched'))
        app.route('/things').get((_req, res) => void res.send('things')).post((_req, res) => void res.status(500).send('no'))
      })
      const expected: Array<[string, number]> = [
        ['GET', 200],
        ['POST', 201],
        ['PUT', 200],
        ['DELETE', 204],
        ['PATCH', 200],
        ['HEAD', 200],
      ]
      for (const [method, code] of expected) {
        expect((await get(`${server.url}/items/9`, { method })).status, method).toBe(code)
      }
      expect((await get(`${server.url}/things`, { method: 'HEAD' })).status).toBe(200)
      expect((await get(`${server.url}/things`, { method: 'POST' })).status).toBe(500)
      const report = await json()
      expect(rules(report)).toEqual(['/items/:id', '/things'])
      expect(countsOf(routeOf(report, '/items/:id'))).toEqual({ success: 6, failure: 0, ignored: 0 })
      expect(countsOf(routeOf(report, '/things'))).toEqual({ success: 1, failure: 1, ignored: 0 })
    })

    it('leaves the app\u2019s responses (status, body, headers) unchanged', async () => {
      // production hides stacks (which differ by a frame) from error bodies, and logs them instead
      const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {})
      cleanups.push(() => consoleError.mockRestore())
      const define = (app: ReturnType<typeof express>) => {
        app.set('env', 'production')
        app.get('/', (_req, res) => void res.send('Welcome to API!'))
        app.get('/json/:id', (req, res) => void res.set('x-id', req.params.id).json({ id: req.params.id, list: [1, 2, 3] }))
        app.post('/echo', express.json(), (req, res) => void res.status(201).json(req.body))
        app.get('/redirect', (_req, res) => void res.redirect(302, '/'))
        app.get('/cookie', (_req, res) => void res.cookie('a', 'b', { httpOnly: true }).send('cookie'))
        app.get('/missing', (_req, res) => void res.status(404).send('nope'))
        app.get('/throws', () => {
          throw new Error('boom')
        })
      }
      const plainApp = express()
      define(plainApp)
      const plain = await listen(plainApp)
      cleanups.push(() => plain.close())
      const { server: withStatus } = await start(define)

      const requests: Array<[string, RequestInit]> = [
        ['/', {}],
        ['/', { method: 'HEAD' }],
        ['/json/42', {}],
        ['/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,"x"]}' }],
        ['/redirect', { redirect: 'manual' }],
        ['/cookie', {}],
        ['/missing', {}],
        ['/throws', {}],
        ['/nowhere', {}],
        ['/', { method: 'OPTIONS' }],
      ]
      const etag = (await fetch(`${plain.url}/`)).headers.get('etag')
      expect(etag).toMatch(/^W\//)
      requests.push(['/', { headers: { 'if-none-match': etag! } }])
      const snapshot = async (base: Running, path: string, init: RequestInit) => {
        const res = await fetch(`${base.url}${path}`, init)
        const headers = Object.fromEntries([...res.headers].filter(([key]) => key !== 'date'))
        return { status: res.status, body: await res.text(), headers }
      }
      for (const [path, init] of requests) {
        const expected = await snapshot(plain, path, init)
        const actual = await snapshot(withStatus, path, init)
        expect(actual, `${init.method ?? 'GET'} ${path}`).toEqual(expected)
      }
    })
  })
}

/** What the tests below leave to close: the handle, then the server, then the database. */
const afterTest = cleanupAfterEach()

describe('one router mounted at two paths', () => {
  for (const { name, express } of EXPRESSES) {
    it(`counts each mount under its own rule or under the template it was reached by (${name})`, async () => {
      const db = tempSqlite()
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false })
      const shared = express.Router()
      shared.get('/ping', (_req, res) => void res.send('pong'))
      app.use('/a', shared)
      app.use('/b', shared)
      const server = await listen(app)
      afterTest.push(async () => {
        await status.close()
        await server.close()
        db.cleanup()
      })
      await hit(`${server.url}/a/ping`, 3)
      await hit(`${server.url}/b/ping`, 2)
      const report = await status.report()
      expect(rules(report)).toEqual(['/a/ping', '/b/ping'])
      expect(countsOf(routeOf(report, '/a/ping'))).toEqual({ success: 3, failure: 0, ignored: 0 })
      expect(countsOf(routeOf(report, '/b/ping'))).toEqual({ success: 2, failure: 0, ignored: 0 })
    })
  }
})

describe('a sub-app mounted at a path', () => {
  for (const { name, express } of EXPRESSES) {
    it(`counts its routes under the mount path (${name})`, async () => {
      const db = tempSqlite()
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false })
      const admin = express()
      admin.get('/users/:id', (_req, res) => void res.send('admin user'))
      app.use('/admin', admin)
      const server = await listen(app)
      afterTest.push(async () => {
        await status.close()
        await server.close()
        db.cleanup()
      })
      await hit(`${server.url}/admin/users/1`, 2)
      const report = await status.report()
      expect(countsOf(routeOf(report, '/admin/users/:id'))).toEqual({ success: 2, failure: 0, ignored: 0 })
      expect(report.unmatched).toBe(0)
    })

    it(`shows its routes before any traffic, as no_data (${name})`, async () => {
      const db = tempSqlite()
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false })
      const admin = express()
      admin.get('/users/:id', (_req, res) => void res.send('admin user'))
      app.use('/admin', admin)
      app.get('/', (_req, res) => void res.send('home'))
      try {
        const report = await status.report()
        expect(rules(report)).toEqual(['/admin/users/:id', '/'])
        expect(routeOf(report, '/admin/users/:id').status).toBe('no_data')
      } finally {
        await status.close()
        db.cleanup()
      }
    })
  }
})

describe('a router mounted at a parameterised path before serverStatus(app) was called', () => {
  for (const { name, express } of EXPRESSES) {
    it(`counts its routes under one bounded rule, never one rule per URL (${name})`, async () => {
      const db = tempSqlite()
      // built first, as an imported module builds its routers
      const users = express.Router()
      users.get('/profile', (_req, res) => void res.send('profile'))
      const api = express.Router()
      api.use('/users/:id', users)
      const app = express()
      const logger = memoryLogger()
      const status = serverStatus(app, { database: db.url, logger })
      app.use('/api', api)
      const server = await listen(app)
      afterTest.push(async () => {
        await status.close()
        await server.close()
        db.cleanup()
      })
      for (let i = 0; i < 20; i++) await hit(`${server.url}/api/users/${i}/profile`, 1)
      const report = await status.report()
      const profile = report.routes.filter((r) => r.rule.endsWith('/profile'))
      // Express 4 keeps the mount's pattern, Express 5 does not: either way one rule for all 20
      expect(profile).toHaveLength(1)
      expect(['/api/users/:id/profile', '/…/profile']).toContain(profile[0]!.rule)
      expect(countsOf(profile[0]!)).toEqual({ success: 20, failure: 0, ignored: 0 })
      expect(report.routes.some((r) => /\/users\/\d/.test(r.rule))).toBe(false)
      if (profile[0]!.rule === '/…/profile') expect(logger.lines.filter((l) => l.includes('mount path of the route /profile'))).toHaveLength(1)
    })
  }
})

describe('an app route below urlPrefix', () => {
  for (const { name, express } of EXPRESSES) {
    it(`is the app's own, counted and shown, next to the page's paths (${name})`, async () => {
      const db = tempSqlite()
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false })
      app.get('/status/orders/:id', (req, res) => void res.send(`order ${req.params.id}`))
      const server = await listen(app)
      afterTest.push(async () => {
        await status.close()
        await server.close()
        db.cleanup()
      })
      const res = await fetch(`${server.url}/status/orders/7`)
      expect(await res.text()).toBe('order 7')
      expect((await fetch(`${server.url}/status`)).headers.get('content-type')).toMatch(/^text\/html/)
      const report = await status.report()
      expect(countsOf(routeOf(report, '/status/orders/:id'))).toEqual({ success: 1, failure: 0, ignored: 0 })
    })
  }
})
