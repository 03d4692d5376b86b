// Options are checked at start: each mistake throws a ServerStatusError naming the option and what was expected.
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ServerStatusError } from '../src/errors.js'
import { serverStatus } from '../src/express/index.js'
import { ServerStatusError as PublicServerStatusError } from '../src/index.js'
import type { ServerStatusOptions, StatusHandle } from '../src/types.js'
import { EXPRESSES, hit, listen, memoryLogger, tempSqlite } from './support.js'

const SAVED_ENV = { ...process.env }
const handles: StatusHandle[] = []

beforeEach(() => {
  delete process.env.SERVER_STATUS_DATABASE_URL
  delete process.env.SERVER_STATUS_API_SECRET
})

afterEach(async () => {
  for (const handle of handles.splice(0)) await handle.close()
  process.env.SERVER_STATUS_DATABASE_URL = SAVED_ENV.SERVER_STATUS_DATABASE_URL
  process.env.SERVER_STATUS_API_SECRET = SAVED_ENV.SERVER_STATUS_API_SECRET
  if (SAVED_ENV.SERVER_STATUS_DATABASE_URL === undefined) delete process.env.SERVER_STATUS_DATABASE_URL
  if (SAVED_ENV.SERVER_STATUS_API_SECRET === undefined) delete process.env.SERVER_STATUS_API_SECRET
})

const express = EXPRESSES[1].express

/** The error `serverStatus` throws for `options`; fails the test when it throws none. */
function errorFor(options: unknown): ServerStatusError {
  let caught: unknown
  try {
    handles.push(serverStatus(express(), options as ServerStatusOptions))
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(ServerStatusError)
  const error = caught as ServerStatusError
  expect(error.name).toBe('ServerStatusError')
  expect(error.code).toBe('ERR_SERVER_STATUS_OPTION')
  return error
}

/** Quotes a literal for a regular expression. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

const base = { database: 'sqlite://:memory:', logger: false as const }

describe('option errors', () => {
  it('is the same ServerStatusError class from the package root', () => {
    expect(PublicServerStatusError).toBe(ServerStatusError)
  })

  it('refuses an unknown option and lists the known ones', () => {
    const error = errorFor({ ...base, colour: 'red' })
    expect(error.message).toMatch(/^server-status: unknown option "colour"\. Known options: database, routes, urlPrefix, api, names, /)
    expect(error.message).toContain('flushIntervalMs, days, timeZone, title, classify')
  })

  it('refuses an unknown key inside api and inside a name', () => {
    expect(errorFor({ ...base, api: { secret: 'x'.repeat(20), path: '/x' } }).message).toBe('server-status: unknown option "api.path".')
    expect(errorFor({ ...base, names: { '/': { name: 'Index', title: 'x' } } }).message).toMatch(/unknown option "names\.\/\.title"/)
  })

  it('refuses options that are not an object', () => {
    expect(errorFor('sqlite://:memory:').message).toBe('server-status: options must be an object (got "sqlite://:memory:")')
    expect(errorFor([]).message).toBe('server-status: options must be an object (got an array)')
  })

  const wrongTypes: Array<[string, unknown, string]> = [
    ['days', '30', 'option "days" must be an integer from 1 to 365 (got "30")'],
    ['flushIntervalMs', -1, 'option "flushIntervalMs" must be an integer number of milliseconds from 100 to 3600000 (got -1)'],
    ['flushIntervalMs', '60000', 'option "flushIntervalMs" must be an integer number of milliseconds from 100 to 3600000 (got "60000")'],
    ['routes', 'x', 'option "routes" must be an array of rules, e.g. ["/", "/users/:id"] (got "x")'],
    ['classify', 1, 'option "classify" must be a function (got 1)'],
    ['title', 5, 'option "title" must be a string of at most 200 characters (got 5)'],
    ['database', 5, 'option "database" must be a database URL (sqlite://, postgres://, postgresql://, mysql:// or mariadb://) (got 5)'],
    ['urlPrefix', 'status', 'option "urlPrefix" must be a path that starts with "/", e.g. "/status" (got "status")'],
    ['timeZone', 5, 'option "timeZone" must be an IANA time zone such as "UTC" or "America/New_York" (got 5)'],
    ['api', 'secret', 'option "api" must be an object { secret, prefix? } (got "secret")'],
    ['names', ['Index'], "option \"names\" must be an object of rule → name or { name, doc }, e.g. { '/': 'Index' } (got an array)"],
    ['logger', true, 'option "logger" must be false or an object with warn() and error() (got true)'],
    ['logger', { warn() {} }, 'option "logger" must be false or an object with warn() and error() (got an object)'],
    ['tablePrefix', 'my-app', 'option "tablePrefix" must be letters, digits and "_", at most 31 characters (got "my-app")'],
    ['minuteRetentionDays', 0, 'option "minuteRetentionDays" must be an integer from 1 to 90 (got 0)'],
    ['dayRetentionDays', 4000, 'option "dayRetentionDays" must be an integer from 1 to 3650 (got 4000)'],
  ]

  for (const [option, value, message] of wrongTypes) {
    it(`refuses ${option}: ${JSON.stringify(value) ?? typeof value} and says what was expected`, () => {
      expect(errorFor({ ...base, [option]: value }).message).toBe(`server-status: ${message}`)
    })
  }

  it('refuses a rule in routes that does not start with "/"', () => {
    expect(errorFor({ ...base, routes: ['/', 'users'] }).message).toBe('server-status: option "routes.1" must be a rule that starts with "/" (got "users")')
  })

  it('refuses "/" and a trailing slash as urlPrefix', () => {
    expect(errorFor({ ...base, urlPrefix: '/' }).message).toMatch(/^server-status: option "urlPrefix" must be a path other than "\/"/)
    expect(errorFor({ ...base, urlPrefix: '/status/' }).message).toMatch(/^server-status: option "urlPrefix" must be a path without a trailing "\/"/)
  })

  it('takes the secret of an api option without one from SERVER_STATUS_API_SECRET, and refuses it when neither has one', async () => {
    const { resolveOptions } = await import('../src/options.js')
    const env = { SERVER_STATUS_API_SECRET: 's'.repeat(16) }
    expect(resolveOptions({ ...base, api: { prefix: '/ops' } }, env).api).toEqual({ secret: 's'.repeat(16), prefix: '/ops' })
    expect(() => resolveOptions({ ...base, api: { prefix: '/ops' } }, {})).toThrow(/option "api\.secret" must be a secret of at least 16 characters/)
  })

  it('fails at start when the driver of a postgres:// or mysql:// URL is not installed', async () => {
    const { resolveOptions } = await import('../src/options.js')
    const missing = (name: string) => name !== 'pg' && name !== 'mysql2'
    expect(() => resolveOptions({ ...base, database: 'postgres://u@127.0.0.1/db' }, {}, missing)).toThrow(
      'server-status: install pg to use postgres:// URLs (npm install pg)',
    )
    expect(() => resolveOptions({ ...base, database: 'postgresql://u@127.0.0.1/db' }, {}, missing)).toThrow(/install pg to use postgres:\/\/ URLs/)
    expect(() => resolveOptions({ ...base, database: 'mariadb://u@127.0.0.1/db' }, {}, missing)).toThrow(
      'server-status: install mysql2 to use mysql:// URLs (npm install mysql2)',
    )
    // both are installed here, and found from the library's own folder
    expect(resolveOptions({ ...base, database: 'postgres://u@127.0.0.1/db' }, {}).database).toBe('postgres://u@127.0.0.1/db')
    expect(resolveOptions({ ...base, database: 'mysql://u@127.0.0.1/db' }, {}).database).toBe('mysql://u@127.0.0.1/db')
  })

  it('refuses an api.prefix that overlaps urlPrefix', () => {
    expect(errorFor({ ...base, api: { secret: 'x'.repeat(20), prefix: '/status' } }).message).toBe(
      'server-status: option "api.prefix" must be a path apart from urlPrefix "/status" (got "/status")',
    )
    expect(errorFor({ ...base, api: { secret: 'x'.repeat(20), prefix: '/status/admin' } }).message).toMatch(/option "api\.prefix" must be a path apart from urlPrefix/)
  })

  for (const days of [0, 366, 1.5, -1, Number.NaN]) {
    it(`refuses days ${String(days)}`, () => {
      expect(errorFor({ ...base, days }).message).toBe(`server-status: option "days" must be an integer from 1 to 365 (got ${String(days)})`)
    })
  }

  it('accepts days 1 and 365', async () => {
    for (const days of [1, 365]) {
      const status = serverStatus(express(), { ...base, days })
      handles.push(status)
      const report = await status.report()
      expect(report.days).toBe(days)
    }
  })

  const badUrls: Array<[string, RegExp]> = [
    ['ftp://x', /database URL "ftp:\/\/x" has unknown scheme "ftp:"/],
    ['sqlite://', /database URL "sqlite:\/\/" has an empty path/],
    ['sqlite:status.db', /must start with sqlite:\/\//],
    ['sqlite://host/status.db', /names a host "host", which sqlite URLs cannot have/],
    ['sqlite:///data/', /has an empty file name/],
    ['postgres://', /database URL "postgres:\/\/" has no host/],
    ['postgres:///status', /has no host/],
    ['postgresql://db.example.com', /database URL "postgresql:\/\/db\.example\.com" names no database/],
    ['mysql://db.example.com:3306/', /names no database/],
    ['mariadb://:3306/status', /database URL "mariadb:\/\/:3306\/status" is not a valid URL/],
    ['status.db', /database URL "status\.db" has no scheme/],
  ]

  for (const [url, reason] of badUrls) {
    it(`refuses the database URL ${url}`, () => {
      const message = errorFor({ ...base, database: url }).message
      expect(message).toMatch(/^server-status: option "database" must be a database URL \(sqlite:\/\/, postgres:\/\/, postgresql:\/\/, mysql:\/\/ or mariadb:\/\/\): /)
      expect(message).toMatch(reason)
    })
  }

  it('hides the password of a bad database URL', () => {
    const message = errorFor({ ...base, database: 'postgres://app:hunter2@db.example.com' }).message
    expect(message).toContain('names no database')
    expect(message).toContain('postgres://app:***@db.example.com')
    expect(message).not.toContain('hunter2')
  })

  it('hides a password that holds "/", "?", "#" or "@"', () => {
    for (const password of ['s3cr/et', 'p@ss', 'a?b#c']) {
      const message = errorFor({ ...base, database: `postgres://app:${password}@db.example.com` }).message
      expect(message).toContain('postgres://app:***@db.example.com')
      expect(message).not.toContain(password)
    }
  })

  it('refuses an unknown time zone', () => {
    expect(errorFor({ ...base, timeZone: 'Mars/Olympus' }).message).toBe(
      'server-status: option "timeZone" must be an IANA time zone such as "UTC" or "America/New_York" (got "Mars/Olympus")',
    )
  })

  it('accepts an IANA time zone and reports it', async () => {
    const status = serverStatus(express(), { ...base, timeZone: 'America/New_York' })
    handles.push(status)
    expect((await status.report()).timeZone).toBe('America/New_York')
  })

  for (const { name, express: make } of EXPRESSES) {
    it(`leaves the ${name} app untouched when an option is refused`, async () => {
      const app = make()
      expect(() => serverStatus(app, { ...base, days: 0 })).toThrow(ServerStatusError)
      app.get('/', (_req: any, res: any) => res.send('ok'))
      const running = await listen(app)
      try {
        expect((await fetch(`${running.url}/`)).status).toBe(200)
        expect((await fetch(`${running.url}/status`)).status).toBe(404)
      } finally {
        await running.close()
      }
    })
  }
})

describe('database defaults', () => {
  const cwd = process.cwd()
  let dir: string

  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'server-status-cwd-')))
    process.chdir(dir)
  })

  afterEach(() => {
    process.chdir(cwd)
    rmSync(dir, { recursive: true, force: true })
  })

  it('warns through the logger that counts go to sqlite:///tmp/status.db in the working directory, and writes there', async () => {
    const logger = memoryLogger()
    const app = express()
    const status = serverStatus(app, { logger })
    handles.push(status)
    app.get('/', (_req: any, res: any) => res.send('ok'))
    expect(logger.lines).toEqual([
      `warn: server-status: no database given, counts go to sqlite:///tmp/status.db (tmp/status.db in ${dir}). ` +
        'Set the "database" option or SERVER_STATUS_DATABASE_URL.',
    ])
    const running = await listen(app)
    try {
      await hit(`${running.url}/`, 3)
    } finally {
      await running.close()
    }
    await status.close()
    const file = join(dir, 'tmp', 'status.db')
    expect(existsSync(file)).toBe(true)
    const db = new Database(file, { readonly: true })
    try {
      expect(db.prepare("select sum(success) as n from server_status_days where rule = '/'").get()).toEqual({ n: 3 })
    } finally {
      db.close()
    }
  })

  it('names SERVER_STATUS_DATABASE_URL, not the option, when the variable holds a bad URL', () => {
    process.env.SERVER_STATUS_DATABASE_URL = 'ftp://example.com/db'
    expect(() => serverStatus(express(), { logger: false })).toThrow(/"SERVER_STATUS_DATABASE_URL" must be a database URL/)
  })

  it('takes an empty SERVER_STATUS_DATABASE_URL as unset', () => {
    process.env.SERVER_STATUS_DATABASE_URL = ''
    const logger = memoryLogger()
    handles.push(serverStatus(express(), { logger }))
    expect(logger.lines).toHaveLength(1)
    expect(logger.lines[0]).toMatch(/^warn: server-status: no database given, counts go to sqlite:\/\/\/tmp\/status\.db/)
  })

  it('uses SERVER_STATUS_DATABASE_URL without a warning', async () => {
    const db = tempSqlite()
    try {
      process.env.SERVER_STATUS_DATABASE_URL = db.url
      const logger = memoryLogger()
      const app = express()
      const status = serverStatus(app, { logger })
      app.get('/', (_req: any, res: any) => res.send('ok'))
      const running = await listen(app)
      try {
        await hit(`${running.url}/`, 4)
      } finally {
        await running.close()
      }
      await status.close()
      expect(logger.lines).toEqual([])
      expect(existsSync(join(dir, 'tmp', 'status.db'))).toBe(false)
      const sqlite = new Database(db.path, { readonly: true })
      try {
        expect(sqlite.prepare("select sum(success) as n from server_status_days where rule = '/'").get()).toEqual({ n: 4 })
      } finally {
        sqlite.close()
      }
    } finally {
      db.cleanup()
    }
  })

  it('prefers the database option over SERVER_STATUS_DATABASE_URL', async () => {
    process.env.SERVER_STATUS_DATABASE_URL = 'sqlite:///from-env.db'
    const logger = memoryLogger()
    const status = serverStatus(express(), { database: 'sqlite:///from-option.db', logger })
    await status.report()
    await status.close()
    expect(logger.lines).toEqual([])
    expect(existsSync(join(dir, 'from-option.db'))).toBe(true)
    expect(existsSync(join(dir, 'from-env.db'))).toBe(false)
  })

  it('refuses a bad SERVER_STATUS_DATABASE_URL at start', () => {
    process.env.SERVER_STATUS_DATABASE_URL = 'ftp://x'
    expect(errorFor({ logger: false }).message).toMatch(/database URL "ftp:\/\/x" has unknown scheme "ftp:"/)
  })
})
