// Naming a route: API name > names option / describe() > `# Name` comment > function name > rule; and the source reader.

import { describe, expect, it } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import { functionName, nameFromHandlers, nameFromSource } from '../src/naming.js'
import type { ServerStatusOptions, StatusHandle, StatusReport } from '../src/types.js'
import { cleanupAfterEach, closeOnce, EXPRESSES, listen, memoryLogger, routeOf, tempSqlite, type Running } from './support.js'

type Handler = (req: any, res: any, next: any) => void

/**
 * A handler compiled from exactly this source. The test files themselves are compiled by a
 * transform that drops comments, so handlers whose comments matter are written as text.
 */
function handler(source: string): Handler {
  return new Function(`return (${source})`)() as Handler
}

const SECRET = 'naming-test-secret-0123456789'

function named(report: StatusReport, rule: string): { name: string; doc: string } {
  const route = routeOf(report, rule)
  return { name: route.name, doc: route.doc }
}

for (const { name: major, express } of EXPRESSES) {
  describe(`naming routes on ${major}`, () => {
    const cleanups = cleanupAfterEach()

    async function start(database: string, options: ServerStatusOptions = {}) {
      const app = express()
      const status: StatusHandle = serverStatus(app, { database, logger: memoryLogger(), api: { secret: SECRET }, ...options })
      const close = closeOnce(cleanups, () => status.close(), () => server.close())

      app.get(
        '/',
        handler(`function index(req, res) {
  /** # Index
   * Welcome page. */
  res.send('Welcome to API!')
}`),
      )
      app.get(
        '/health',
        handler(`function health(req, res) {
  // # Health check
  // Checks the database.
  res.send('ok')
}`),
      )
      app.get('/users', handler(`function listUsers(req, res) { res.send('users') }`))
      const showUser: Handler = (_req, res) => void res.send('user')
      app.get('/users/:id', showUser)
      app.get('/anonymous', handler(`(req, res) => { res.send('anonymous') }`))
      app.get('/option', handler(`function optionHandler(req, res) {\n  /* # From Comment\n   * comment doc */\n  res.send('x')\n}`))
      app.get('/described', handler(`function describedHandler(req, res) {\n  /* # From Comment */\n  res.send('x')\n}`))
      app.get('/api', handler(`function apiHandler(req, res) {\n  /* # From Comment */\n  res.send('x')\n}`))
      app.get(
        '/middleware',
        function auth(_req: unknown, _res: unknown, next: () => void) {
          next()
        },
        handler(`function showSecret(req, res) { res.send('secret') }`),
      )
      const arrowRouter = express.Router()
      arrowRouter.get('/:id', handler(`(req, res) => {\n  // # Order\n  res.send('order')\n}`))
      app.use('/orders', arrowRouter)

      const server: Running = await listen(app)
      const json = async (): Promise<StatusReport> => {
        const res = await fetch(`${server.url}/status/api/routes`)
        expect(res.status).toBe(200)
        return (await res.json()) as StatusReport
      }
      const put = async (body: object) => {
        const res = await fetch(`${server.url}/server-status/configure`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
        return { status: res.status, body: (await res.json()) as unknown }
      }
      return { app, status, server, json, put, close }
    }

    it('reads name and doc from a /** # Name */ block comment in the handler', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { json } = await start(db.url)
      expect(named(await json(), '/')).toEqual({ name: 'Index', doc: 'Welcome page.' })
    })

    it('reads name and doc from // # Name line comments in the handler', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { json } = await start(db.url)
      const report = await json()
      expect(named(report, '/health')).toEqual({ name: 'Health check', doc: 'Checks the database.' })
      expect(named(report, '/orders/:id')).toEqual({ name: 'Order', doc: '' })
    })

    it('falls back to the function name, then to the rule', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { json } = await start(db.url)
      const report = await json()
      expect(named(report, '/users')).toEqual({ name: 'listUsers', doc: '' })
      expect(named(report, '/users/:id')).toEqual({ name: 'showUser', doc: '' })
      expect(named(report, '/anonymous')).toEqual({ name: '/anonymous', doc: '' })
      expect(named(report, '/middleware')).toEqual({ name: 'showSecret', doc: '' })
    })

    it('prefers the names option to a # Name comment', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { json } = await start(db.url, {
        names: { '/option': 'From Option', '/users': { name: 'Users', doc: 'Every user.' } },
      })
      const report = await json()
      expect(routeOf(report, '/option').name).toBe('From Option')
      expect(named(report, '/users')).toEqual({ name: 'Users', doc: 'Every user.' })
    })

    it('prefers describe() to a # Name comment and to the function name', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { status, json } = await start(db.url)
      status.describe('/described', { name: 'From Describe', doc: 'Described in code.' })
      status.describe('/users', { name: 'People' })
      const report = await json()
      expect(named(report, '/described')).toEqual({ name: 'From Describe', doc: 'Described in code.' })
      expect(routeOf(report, '/users').name).toBe('People')
    })

    it('lets a later describe() override the names option', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { status, json } = await start(db.url, { names: { '/option': { name: 'From Option', doc: 'option doc' } } })
      expect(named(await json(), '/option')).toEqual({ name: 'From Option', doc: 'option doc' })
      status.describe('/option', { name: 'From Describe' })
      expect(named(await json(), '/option')).toEqual({ name: 'From Describe', doc: 'option doc' })
    })

    it('prefers a name set through the API to every other, also after a restart', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const options: ServerStatusOptions = { names: { '/api': { name: 'From Option', doc: 'option doc' } } }
      const first = await start(db.url, options)
      first.status.describe('/api', { name: 'From Describe' })
      expect(routeOf(await first.json(), '/api').name).toBe('From Describe')

      const answer = await first.put({ rule: '/api', name: 'From API', doc: 'api doc' })
      expect(answer).toEqual({ status: 200, body: { message: 'Route modified', route: { rule: '/api', name: 'From API', doc: 'api doc' } } })
      expect(named(await first.json(), '/api')).toEqual({ name: 'From API', doc: 'api doc' })
      first.status.describe('/api', { name: 'Described Again', doc: 'again' })
      expect(named(await first.json(), '/api')).toEqual({ name: 'From API', doc: 'api doc' })
      await first.close()

      const second = await start(db.url, options)
      second.status.describe('/api', { name: 'From Describe' })
      expect(named(await second.json(), '/api')).toEqual({ name: 'From API', doc: 'api doc' })
      // the other routes are named from code as before
      expect(named(await second.json(), '/')).toEqual({ name: 'Index', doc: 'Welcome page.' })
    })

    it('keeps the doc from code when the API sets only the name', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { json, put } = await start(db.url)
      expect((await put({ rule: '/', name: 'Home' })).status).toBe(200)
      expect(named(await json(), '/')).toEqual({ name: 'Home', doc: 'Welcome page.' })
      expect((await put({ rule: '/', doc: '' })).status).toBe(200)
      expect(named(await json(), '/')).toEqual({ name: 'Home', doc: '' })
    })

    it('shows the names on the page', async () => {
      const db = tempSqlite()
      cleanups.push(() => db.cleanup())
      const { server } = await start(db.url)
      const page = await (await fetch(`${server.url}/status`)).text()
      for (const text of ['Index', 'Welcome page.', 'Health check', 'listUsers', 'showUser', '/anonymous']) {
        expect(page).toContain(text)
      }
    })
  })
}

describe('nameFromSource', () => {
  it('reads the seed example: a /** # Index */ block with the doc below', () => {
    const source = `function index(req, res) {
  /** # Index
   * Welcome page. */
  res.send('Welcome to API!')
}`
    expect(nameFromSource(source)).toEqual({ name: 'Index', doc: 'Welcome page.' })
  })

  it('reads a multi-line block comment, dropping blank lines around the doc', () => {
    const source = `function list(req, res) {
  /**
   * # Users
   *
   * Lists the users.
   * Paginated by 50.
   */
  res.json([])
}`
    expect(nameFromSource(source)).toEqual({ name: 'Users', doc: 'Lists the users.\nPaginated by 50.' })
  })

  it('reads consecutive // line comments as one comment', () => {
    const source = `function health(req, res) {
  // # Health
  // Checks the database.
  // Answers 503 when it is down.
  res.send('ok')
}`
    expect(nameFromSource(source)).toEqual({ name: 'Health', doc: 'Checks the database.\nAnswers 503 when it is down.' })
  })

  it('gives no doc when the comment holds only the name', () => {
    expect(nameFromSource(`function f(req, res) { /* # Lonely */ res.end() }`)).toEqual({ name: 'Lonely' })
    expect(nameFromSource(`function f(req, res) {\n  // # Lonely\n  res.end()\n}`)).toEqual({ name: 'Lonely' })
  })

  it('reads arrow functions with a block body', () => {
    expect(nameFromSource(`(req, res) => { /* # Arrow */ res.send('x') }`)).toEqual({ name: 'Arrow' })
    expect(nameFromSource(`async (req, res) => {\n  // # Async arrow\n  res.send('x')\n}`)).toEqual({ name: 'Async arrow' })
  })

  it('finds nothing in an arrow function with an expression body', () => {
    expect(nameFromSource(`(req, res) => res.send('x')`)).toEqual({})
  })

  it('trims the heading and drops closing hashes', () => {
    expect(nameFromSource(`function f() { /*   #   Spaced out   */ }`)).toEqual({ name: 'Spaced out' })
    expect(nameFromSource(`function f() { /* # Closed # */ }`)).toEqual({ name: 'Closed' })
  })

  it('ignores comments where # is not at the start of a line', () => {
    expect(nameFromSource(`function f(req, res) { /* see issue #12 */ res.end() }`)).toEqual({})
    expect(nameFromSource(`function f(req, res) {\n  // TODO: fix #3\n  res.end()\n}`)).toEqual({})
    expect(nameFromSource(`function f(req, res) {\n  /* Heading # Not a name */\n  res.end()\n}`)).toEqual({})
  })

  it('needs a space after the #', () => {
    expect(nameFromSource(`function f(req, res) { /* #hashtag */ res.end() }`)).toEqual({})
    expect(nameFromSource(`function f(req, res) { /* ## Sub heading */ res.end() }`)).toEqual({})
  })

  it('takes the first comment that has a # Name line', () => {
    const source = `function f(req, res) {
  // plain remark
  /* # First */
  /* # Second */
  res.end()
}`
    expect(nameFromSource(source)).toEqual({ name: 'First' })
  })

  it('does not read a comment before the body, outside the function', () => {
    expect(nameFromSource(`/* # Outside */ function f(req, res) { res.end() }`)).toEqual({})
  })

  it('does not take text inside a string for a comment', () => {
    expect(nameFromSource(`function f(req, res) { res.send("/* # Fake */") }`)).toEqual({})
    expect(nameFromSource(`function f(req, res) { res.send('/* # Fake */') }`)).toEqual({})
    expect(nameFromSource('function f(req, res) {\n  res.send(`\n// # Fake\n`)\n}')).toEqual({})
  })

  it('finds the real comment after a string that contains /*', () => {
    expect(nameFromSource(`function f(req, res) { res.type('text/*'); /** # Real */ res.end() }`)).toEqual({ name: 'Real' })
  })

  it('does not take a default parameter for the body', () => {
    expect(nameFromSource(`function f(req, res, opts = { a: '/* # Fake */' }) { /* # Real */ res.end() }`)).toEqual({ name: 'Real' })
  })

  it('reads CRLF sources', () => {
    expect(nameFromSource('function f(req, res) {\r\n  /**\r\n   * # Windows\r\n   * Line two.\r\n   */\r\n}')).toEqual({
      name: 'Windows',
      doc: 'Line two.',
    })
    expect(nameFromSource('function f(req, res) {\r\n  // # Windows\r\n  // Line two.\r\n}')).toEqual({ name: 'Windows', doc: 'Line two.' })
  })
})

describe('nameFromHandlers', () => {
  it('takes the name from the first handler with a # Name comment', () => {
    const auth = handler(`function auth(req, res, next) { next() }`)
    const show = handler(`function show(req, res) {\n  // # Show\n  // Shows it.\n  res.end()\n}`)
    expect(nameFromHandlers([auth, show])).toEqual({ name: 'Show', doc: 'Shows it.' })
  })

  it('prefers a # Name comment to any function name', () => {
    const named = handler(`function namedHandler(req, res) { res.end() }`)
    const commented = handler(`(req, res) => { /* # Commented */ res.end() }`)
    expect(nameFromHandlers([commented, named])).toEqual({ name: 'Commented' })
    expect(nameFromHandlers([named, commented])).toEqual({ name: 'Commented' })
  })

  it('falls back to the function name of the last handler, never a middleware before it', () => {
    const auth = handler(`function auth(req, res, next) { next() }`)
    const show = handler(`function showThing(req, res) { res.end() }`)
    const anonymous = handler(`(req, res) => res.end()`)
    expect(nameFromHandlers([auth, show])).toEqual({ name: 'showThing' })
    expect(nameFromHandlers([auth, show, anonymous])).toEqual({})
  })

  it('uses the name of a bound function without "bound "', () => {
    const show = handler(`function showBound(req, res) { res.end() }`)
    expect(nameFromHandlers([show.bind(null)])).toEqual({ name: 'showBound' })
    expect(functionName(show.bind(null).bind(null))).toBe('showBound')
  })

  it('gives nothing for anonymous handlers only', () => {
    expect(nameFromHandlers([handler(`(req, res) => res.end()`), handler(`function (req, res) { res.end() }`)])).toEqual({})
    expect(nameFromHandlers([])).toEqual({})
  })
})
