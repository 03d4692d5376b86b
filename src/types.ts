// Every public type of server-status: options, the report, the Store contract.

/** How one response is counted. */
export type Outcome = 'success' | 'failure' | 'ignore'

/** Status of a day, a route or the whole page. */
export type Status = 'operational' | 'partial_outage' | 'major_outage' | 'no_data'

/** An explicit name for a route: a string, or a name with a doc. */
export type RouteName = string | { name?: string; doc?: string }

/**
 * Options of `serverStatus(app, options)`.
 *
 * @example
 * serverStatus(app, { database: 'sqlite:///var/lib/app/status.db', routes: ['/', '/users/:id'] })
 */
export interface ServerStatusOptions {
  /**
   * Where counts live. Default `sqlite:///tmp/status.db` (a warning says so), or
   * `SERVER_STATUS_DATABASE_URL`. Forms: `sqlite:///relative.db`, `sqlite:////absolute.db`,
   * `sqlite://:memory:`, `postgres://…`, `postgresql://…`, `mysql://…`, `mariadb://…`.
   */
  database?: string
  /** Rules shown on the page and in the JSON. Default: every route. @example ['/', '/users/:id'] */
  routes?: string[]
  /** Path of the page; its JSON lives under `${urlPrefix}/api/`. Default `/status`. */
  urlPrefix?: string
  /**
   * Turns the configure API on. Default off, or on with `SERVER_STATUS_API_SECRET`.
   * The secret must have at least 16 characters; without `secret` here it is taken from
   * `SERVER_STATUS_API_SECRET`. `prefix` defaults to `/server-status`.
   */
  api?: { secret?: string; prefix?: string }
  /** Explicit names. @example { '/': 'Index', '/users/:id': { name: 'Users', doc: 'One user' } } */
  names?: Record<string, RouteName>
  /** How often pending counts are written, in ms. Default `60000`. */
  flushIntervalMs?: number
  /** Days shown, 1 to 365. Default `30`. */
  days?: number
  /** IANA time zone in which a day starts. Default `UTC`. */
  timeZone?: string
  /** Page heading. Default `System Status`. */
  title?: string
  /** Decides how a status code counts. Default: the seed's rule (see `defaultClassify`). */
  classify?: (statusCode: number) => Outcome
  /** Prefix of the library's table names, so several apps can share one database. Default `server_status_`. */
  tablePrefix?: string
  /** Days that minute rows are kept. Default `7`. */
  minuteRetentionDays?: number
  /** Days that day rows are kept. Default `400`. */
  dayRetentionDays?: number
  /**
   * Most route-minutes of counts held in memory while the store cannot take them; past it the
   * oldest minutes are dropped (and counted in the report's `dropped`). Default `100000`
   * (about 10 MB; 1,000 busy routes for 100 minutes).
   */
  maxPendingRouteMinutes?: number
  /**
   * Keeps the page and its JSON private. A function gets the framework's request and returns
   * whether it may see the page (`false` → 403); credentials ask for HTTP Basic auth (401).
   * Default: public. @example { protect: { username: 'ops', password: process.env.STATUS_PASSWORD! } }
   */
  protect?: ((req: any) => boolean | Promise<boolean>) | { username: string; password: string }
  /** Where warnings and errors go. Default `console`. Pass `false` to silence them. */
  logger?: Logger | false
}

/** The part of `console` that the library uses. */
export interface Logger {
  warn(message: string): void
  error(message: string): void
}

/** One day of one route in the report. */
export interface DayReport {
  /** `YYYY-MM-DD` in the report's time zone. */
  date: string
  success: number
  failure: number
  ignored: number
  /** `success / (success + failure)`, `null` where nothing was counted. */
  uptime: number | null
  status: Status
}

/** One route in the report. */
export interface RouteReport {
  rule: string
  name: string
  doc: string
  status: Status
  uptime: number | null
  success: number
  failure: number
  ignored: number
  /** Mean duration in ms of the requests counted over the shown days, `null` where none. */
  avgResponseMs: number | null
  days: DayReport[]
}

/** The object served at `${urlPrefix}/api/routes` and returned by `report()`. */
export interface StatusReport {
  generatedAt: string
  timeZone: string
  days: number
  status: Exclude<Status, 'no_data'>
  unmatched: number
  /** Requests this process dropped because the store was unavailable for too long. */
  dropped: number
  /** Since when the store is unreachable (ISO time), or `null`. */
  storageUnavailableSince: string | null
  routes: RouteReport[]
}

/** What `serverStatus()` returns. */
export interface StatusHandle {
  /** Writes pending counts now. */
  flush(): Promise<void>
  /** Flushes, stops timers and closes the store; safe to call twice. */
  close(): Promise<void>
  /** Names a route from code. @example status.describe('/users/:id', { name: 'Users' }) */
  describe(rule: string, info: { name?: string; doc?: string }): void
  /** The same object as `GET ${urlPrefix}/api/routes`. */
  report(): Promise<StatusReport>
}

/** Counts of one route in one minute, as the core hands them to a store. */
export interface MinuteCounts {
  rule: string
  /** Minutes since the Unix epoch. */
  minute: number
  /** `YYYY-MM-DD` of that minute in the configured time zone. */
  day: string
  success: number
  failure: number
  ignored: number
  /** Sum of the durations of the counted requests, in ms. */
  durationMs: number
}

/** A route as the store keeps it. */
export interface RouteRecord {
  rule: string
  /** Set through the configure API; `null` where never set. */
  name: string | null
  doc: string | null
  /** Deleted through the configure API: its history is gone and it is not shown. */
  hidden: boolean
}

/** Counts of one route summed over one day. */
export interface DayRow {
  rule: string
  day: string
  success: number
  failure: number
  ignored: number
  durationMs: number
}

/** Counts of one route in one minute, as read back. */
export interface MinuteRow {
  rule: string
  minute: number
  success: number
  failure: number
  ignored: number
  durationMs: number
}

/**
 * Where counts live. One implementation per database; each method is atomic, and several
 * processes may call any of them at once on the same database.
 */
export interface Store {
  /** Creates or migrates the tables; safe when several processes start at once. */
  init(): Promise<void>
  /** Adds rules that the store does not know yet; leaves known ones as they are. */
  registerRoutes(rules: readonly string[]): Promise<void>
  /** Every known route, hidden ones included. */
  listRoutes(): Promise<RouteRecord[]>
  /**
   * Adds the counts to their minute and day rows in one transaction: all of them or none.
   * Counts of hidden routes are dropped. A `batchId` makes the write idempotent: a batch whose
   * id the store has already committed is not added again (a retry after a lost reply).
   */
  write(counts: readonly MinuteCounts[], batchId?: string): Promise<void>
  /** Sets name and/or doc (a field left undefined is kept) and shows a hidden route again with no history. */
  updateRoute(rule: string, info: { name?: string; doc?: string }): Promise<RouteRecord>
  /** Removes the route's history and hides it until `updateRoute` names it again. */
  deleteRoute(rule: string): Promise<void>
  /** Day rows with `fromDay <= day`. */
  readDays(fromDay: string): Promise<DayRow[]>
  /** Minute rows with `fromMinute <= minute`. */
  readMinutes(fromMinute: number): Promise<MinuteRow[]>
  /** Deletes minute rows before `beforeMinute` and day rows before `beforeDay`. Idempotent. */
  prune(beforeMinute: number, beforeDay: string): Promise<void>
  /** Closes connections. */
  close(): Promise<void>
}
