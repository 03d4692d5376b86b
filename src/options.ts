// Checks the options once at start and fills in the defaults.
import { createRequire } from 'node:module'
import { z } from 'zod'
import { defaultClassify } from './classify.js'
import { ServerStatusError } from './errors.js'
import { parseDatabaseUrl } from './store/url.js'
import { isTimeZone } from './time.js'
import type { Logger, Outcome, ServerStatusOptions } from './types.js'

/** The database used when none is given. */
export const DEFAULT_DATABASE = 'sqlite:///tmp/status.db'

/** Shortest configure-API secret accepted. */
export const MIN_SECRET_LENGTH = 16

/** Options after checking, with every default filled in. */
export interface ResolvedOptions {
  database: string
  routes: string[] | null
  urlPrefix: string
  api: { secret: string; prefix: string } | null
  names: Map<string, { name?: string; doc?: string }>
  flushIntervalMs: number
  days: number
  timeZone: string
  title: string
  classify: (statusCode: number) => Outcome
  tablePrefix: string
  minuteRetentionDays: number
  dayRetentionDays: number
  maxPendingRouteMinutes: number
  protect: ServerStatusOptions['protect'] | null
  logger: Logger
}

const pathPrefix = z
  .string()
  .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'a path that starts with "/", e.g. "/status"')
  .refine((p) => p.length === 1 || !p.endsWith('/'), 'a path without a trailing "/"')
  .refine((p) => p !== '/', 'a path other than "/"')

const routeName = z.union([
  z.string().max(200),
  z.strictObject({ name: z.string().max(200).optional(), doc: z.string().max(10_000).optional() }),
])

const schema = z.strictObject({
  database: z.string().min(1).optional(),
  routes: z.array(z.string().startsWith('/', 'a rule that starts with "/"')).optional(),
  urlPrefix: pathPrefix.optional(),
  api: z
    .strictObject({
      secret: z.string().optional(),
      prefix: pathPrefix.optional(),
    })
    .optional(),
  names: z.record(z.string(), routeName).optional(),
  flushIntervalMs: z.number().int().min(100).max(3_600_000).optional(),
  days: z.number().int().min(1).max(365).optional(),
  timeZone: z.string().optional(),
  title: z.string().max(200).optional(),
  classify: z.custom<(statusCode: number) => Outcome>((v) => typeof v === 'function', 'a function').optional(),
  tablePrefix: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/, 'letters, digits and "_", starting with a letter or "_", at most 31 characters')
    .optional(),
  minuteRetentionDays: z.number().int().min(1).max(90).optional(),
  dayRetentionDays: z.number().int().min(1).max(3650).optional(),
  maxPendingRouteMinutes: z.number().int().min(100).max(10_000_000).optional(),
  protect: z
    .union([
      z.custom<(req: unknown) => boolean>((v) => typeof v === 'function', 'a function (req) => boolean'),
      z.strictObject({ username: z.string().min(1).regex(/^[^:]*$/, 'a username without ":"'), password: z.string().min(1) }),
    ])
    .optional(),
  logger: z
    .union([
      z.literal(false),
      z.custom<Logger>(
        (v) => typeof v === 'object' && v !== null && typeof (v as Logger).warn === 'function' && typeof (v as Logger).error === 'function',
        'an object with warn() and error()',
      ),
    ])
    .optional(),
})

const EXPECTED: Record<string, string> = {
  database: 'a database URL (sqlite://, postgres://, postgresql://, mysql:// or mariadb://)',
  routes: 'an array of rules, e.g. ["/", "/users/:id"]',
  urlPrefix: 'a path that starts with "/", e.g. "/status"',
  api: 'an object { secret, prefix? }',
  names: "an object of rule → name or { name, doc }, e.g. { '/': 'Index' }",
  flushIntervalMs: 'an integer number of milliseconds from 100 to 3600000',
  days: 'an integer from 1 to 365',
  timeZone: 'an IANA time zone such as "UTC" or "America/New_York"',
  title: 'a string of at most 200 characters',
  classify: 'a function (statusCode) => "success" | "failure" | "ignore"',
  tablePrefix: 'letters, digits and "_", at most 31 characters',
  minuteRetentionDays: 'an integer from 1 to 90',
  dayRetentionDays: 'an integer from 1 to 3650',
  maxPendingRouteMinutes: 'an integer from 100 to 10000000',
  protect: 'a function (req) => boolean or { username, password }',
  logger: 'false or an object with warn() and error()',
}

/** Tells whether a package can be loaded from here (pg and mysql2 are optional peers). */
function isInstalled(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name)
    return true
  } catch {
    return false
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  return String(value)
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key]
  return value
}

function fail(option: string, expected: string, got?: unknown): never {
  const tail = arguments.length > 2 ? ` (got ${describeValue(got)})` : ''
  throw new ServerStatusError('ERR_SERVER_STATUS_OPTION', `option "${option}" must be ${expected}${tail}`)
}

/**
 * Checks `input` and returns the options with every default filled in. Throws a
 * `ServerStatusError` naming the first wrong option and what was expected.
 */
export function resolveOptions(
  input: ServerStatusOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
  resolveModule: (name: string) => boolean = isInstalled,
): ResolvedOptions {
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw new ServerStatusError('ERR_SERVER_STATUS_OPTION', `options must be an object (got ${describeValue(input)})`)
  }
  const parsed = schema.safeParse(input ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!
      const at = issue.path.length > 0 ? `${issue.path.join('.')}.` : ''
      const known = issue.path.length === 0 ? ` Known options: ${Object.keys(EXPECTED).join(', ')}.` : ''
      throw new ServerStatusError('ERR_SERVER_STATUS_OPTION', `unknown option "${at}${key}".${known}`)
    }
    const option = issue.path.map(String).join('.') || 'options'
    const top = String(issue.path[0] ?? '')
    const expected = issue.code === 'custom' || issue.path.length > 1 ? issue.message : (EXPECTED[top] ?? issue.message)
    fail(option, expected, valueAt(input, issue.path))
  }
  const o = parsed.data
  const logger: Logger = o.logger === false ? { warn() {}, error() {} } : (o.logger ?? console)

  let database = o.database ?? env.SERVER_STATUS_DATABASE_URL
  if (database === undefined || database === '') {
    database = DEFAULT_DATABASE
    logger.warn(
      `server-status: no database given, counts go to ${DEFAULT_DATABASE} (tmp/status.db in ${process.cwd()}). ` +
        'Set the "database" option or SERVER_STATUS_DATABASE_URL.',
    )
  }
  let location: ReturnType<typeof parseDatabaseUrl>
  try {
    location = parseDatabaseUrl(database)
  } catch (error) {
    // the URL is not echoed: it may hold a password (the parser's message hides it)
    fail(o.database === undefined ? 'SERVER_STATUS_DATABASE_URL' : 'database', `${EXPECTED.database}: ${(error as Error).message}`)
  }
  if (location.kind !== 'sqlite') {
    const driver = location.kind === 'postgres' ? 'pg' : 'mysql2'
    if (!resolveModule(driver)) {
      const scheme = location.kind === 'postgres' ? 'postgres://' : 'mysql://'
      throw new ServerStatusError('ERR_SERVER_STATUS_DRIVER', `install ${driver} to use ${scheme} URLs (npm install ${driver})`)
    }
  }

  const timeZone = o.timeZone ?? 'UTC'
  if (!isTimeZone(timeZone)) fail('timeZone', EXPECTED.timeZone!, timeZone)

  const secret = o.api?.secret ?? env.SERVER_STATUS_API_SECRET
  let api: ResolvedOptions['api'] = null
  if (secret !== undefined && secret !== '') {
    if (secret.length < MIN_SECRET_LENGTH) {
      fail(o.api ? 'api.secret' : 'SERVER_STATUS_API_SECRET', `a secret of at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`)
    }
    api = { secret, prefix: o.api?.prefix ?? '/server-status' }
  } else if (o.api) {
    fail('api.secret', `a secret of at least ${MIN_SECRET_LENGTH} characters`, secret)
  }

  const urlPrefix = o.urlPrefix ?? '/status'
  if (api && (api.prefix === urlPrefix || api.prefix.startsWith(`${urlPrefix}/`) || urlPrefix.startsWith(`${api.prefix}/`))) {
    fail('api.prefix', `a path apart from urlPrefix "${urlPrefix}"`, api.prefix)
  }

  const names = new Map<string, { name?: string; doc?: string }>()
  for (const [rule, value] of Object.entries(o.names ?? {})) {
    names.set(rule, typeof value === 'string' ? { name: value } : value)
  }

  return {
    database,
    routes: o.routes ?? null,
    urlPrefix,
    api,
    names,
    flushIntervalMs: o.flushIntervalMs ?? 60_000,
    days: o.days ?? 30,
    timeZone,
    title: o.title ?? 'System Status',
    classify: o.classify ?? defaultClassify,
    tablePrefix: o.tablePrefix ?? 'server_status_',
    minuteRetentionDays: o.minuteRetentionDays ?? 7,
    dayRetentionDays: o.dayRetentionDays ?? 400,
    maxPendingRouteMinutes: o.maxPendingRouteMinutes ?? 100_000,
    protect: o.protect ?? null,
    logger,
  }
}
