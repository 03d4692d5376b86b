// The framework-free core: counts, flushes, reports, and answers the page, JSON and API requests.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { ConfigureApi } from './api.js'
import { defaultClassify } from './classify.js'
import { jsonError, json, type CoreRequest, type CoreResponse } from './http.js'
import type { ResolvedOptions } from './options.js'
import { renderPage } from './page/render.js'
import { STATUS_CSS } from './page/assets.js'
import { minuteCounts, Recorder, UNMATCHED, type Batch, type Bucket, type OutcomeCode, SUCCESS, FAILURE, IGNORED } from './recorder.js'
import { buildReportFrom, RECENT_MINUTES, Tally, type ShownRoute } from './report.js'
import { createStore } from './store/index.js'
import { addDays, DayClock } from './time.js'
import type { RouteRecord, StatusHandle, StatusReport, Store } from './types.js'

/** A route found in the app's code. */
export interface DiscoveredRoute {
  rule: string
  name?: string
  doc?: string
}

/** What an adapter tells the core about the app. */
export interface AppInfo {
  /** Every route the app has now, in registration order. */
  discover(): DiscoveredRoute[]
}

/** What the store held when last read, plus this process's own writes since then. */
interface Snapshot {
  /** When recent rows (today, yesterday, the last minutes) were last read. */
  at: number
  /** When every shown day was last read. */
  fullAt: number
  days: Tally<string>
  minutes: Tally<number>
}


/** How long a page or JSON request waits for the store before it answers from memory. */
const REPORT_WAIT_MS = 1_500
/**
 * How often every shown day is read again; in between only today and yesterday are, since
 * older days change only through late writes of other instances.
 */
const FULL_READ_EVERY_MS = 600_000
/** Longest wait of close() for the last flush, and then for the store to close. */
const CLOSE_WAIT_MS = 10_000
/** Least time between two attempts to reach a store that is down, for reads. */
const REOPEN_EVERY_MS = 5_000

const PRUNE_EVERY_MS = 3_600_000
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'none'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

/** Counts requests, keeps them in the store and serves the status page. */
export class StatusCore {
  readonly options: ResolvedOptions
  readonly recorder: Recorder
  readonly clock: DayClock
  readonly #app: AppInfo
  readonly #api: ConfigureApi | null
  readonly #described = new Map<string, { name?: string; doc?: string }>()
  #discovered = new Map<string, DiscoveredRoute>()
  #records = new Map<string, RouteRecord>()
  #store: Store | null = null
  #opening: Promise<Store> | null = null
  #lock: Promise<unknown> = Promise.resolve()
  /** Empty and due for a full read until the store is first read; own writes are added meanwhile. */
  #snapshot: Snapshot = { at: -Infinity, fullAt: -Infinity, days: new Tally(), minutes: new Tally() }
  #refreshing: Promise<void> | null = null
  #forceRefresh = false
  #lastAttempt = 0
  #droppedLogged = 0
  /** Set once close() has written what it could: the store is not opened again. */
  #shut = false
  #protectFailed = false
  /** The batch being written; reports count it until the write ends. */
  #inflight: Batch | null = null
  #timer: NodeJS.Timeout | null = null
  #closed: Promise<void> | null = null
  #lastPrune = 0
  #downSince: Date | null = null
  readonly #classify: (statusCode: number) => OutcomeCode

  constructor(options: ResolvedOptions, app: AppInfo) {
    this.options = options
    this.clock = new DayClock(options.timeZone)
    this.recorder = new Recorder(options.maxPendingRouteMinutes)
    this.#app = app
    for (const [rule, info] of options.names) this.#described.set(rule, info)
    this.#api = options.api ? new ConfigureApi(options.api, this.#editor()) : null
    this.#classify = toCode(options.classify, options.logger)
    this.#timer = setInterval(() => {
      // not flush(): that one also asks the next report to read every day again
      this.#exclusive(() => this.#flush()).catch(() => {})
    }, options.flushIntervalMs)
    this.#timer.unref()
    // routes are usually defined right after serverStatus(app); look once they are
    setImmediate(() => {
      if (this.#closed !== null) return
      this.#discover()
      this.#open().catch(() => {})
    })
  }

  /**
   * Counts one finished request that started at `startedAt` (ms since the epoch). The
   * per-request path: one clock read, no I/O, no await.
   */
  record(rule: string, statusCode: number, threw: boolean, startedAt: number): void {
    const now = Date.now()
    // a clock stepped back during the request gives no negative duration
    const durationMs = now > startedAt ? now - startedAt : 0
    this.recorder.record(rule, threw ? FAILURE : this.#classify(statusCode), durationMs, now)
  }

  /** Tells whether a path is served by the core (page, assets, JSON, API). */
  owns(path: string): boolean {
    const prefix = this.options.urlPrefix
    if (path.startsWith(prefix)) {
      const rest = path.slice(prefix.length)
      if (rest === '' || rest === '/' || rest === '/api/routes' || rest === '/assets/status.css') return true
    }
    return this.#api !== null && path === this.#api.path
  }

  /** Answers a request for which `owns(path)` is true. */
  async handle(req: CoreRequest): Promise<CoreResponse | null> {
    const prefix = this.options.urlPrefix
    if (this.#api !== null && req.path === this.#api.path) return this.#api.handle(req)
    const rest = req.path.slice(prefix.length)
    const method = req.method.toUpperCase()
    const readable = method === 'GET' || method === 'HEAD'
    if (rest === '' || rest === '/' || rest === '/api/routes') {
      const refused = await this.#guard(req)
      if (refused !== null) return refused
    }
    if (rest === '' || rest === '/') {
      if (!readable) return jsonError(405, `method ${method} is not allowed; use GET`, { allow: 'GET, HEAD' })
      const report = await this.report()
      const body = renderPage(report, {
        title: this.options.title,
        assetPath: `${req.basePath ?? ''}${prefix}/assets`,
        storageNote: storageNote(report),
      })
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', ...PAGE_HEADERS }, body }
    }
    if (rest === '/api/routes') {
      if (!readable) return jsonError(405, `method ${method} is not allowed; use GET`, { allow: 'GET, HEAD' })
      // readable from other origins only when the page is public anyway
      const cors: Record<string, string> = this.options.protect ? {} : { 'access-control-allow-origin': '*' }
      return json(200, await this.report(), { 'x-content-type-options': 'nosniff', ...cors })
    }
    if (rest === '/assets/status.css') {
      return {
        status: 200,
        headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' },
        body: STATUS_CSS,
      }
    }
    return null
  }

  /** Applies the `protect` option: `null` lets the request through. */
  async #guard(req: CoreRequest): Promise<CoreResponse | null> {
    const protect = this.options.protect
    if (protect === null || protect === undefined) return null
    if (typeof protect === 'function') {
      let allowed = false
      try {
        allowed = (await protect(req.raw)) === true
      } catch (error) {
        // once, not per request: a broken guard would otherwise flood the log
        if (!this.#protectFailed) this.options.logger.error(`server-status: the protect function threw, the page is refused: ${message(error)}`)
        this.#protectFailed = true
      }
      return allowed ? null : jsonError(403, 'forbidden')
    }
    const header = req.headers.authorization ?? ''
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header)
    const given = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : ''
    const expected = `${protect.username}:${protect.password}`
    if (safeEqual(given, expected)) return null
    return {
      status: 401,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Basic realm="status", charset="UTF-8"', 'cache-control': 'no-store' },
      body: 'Authentication required',
    }
  }

  /** The StatusHandle given to the app. */
  handleObject(): StatusHandle {
    return {
      flush: () => this.flush(),
      close: () => this.close(),
      describe: (rule, info) => this.describe(rule, info),
      report: () => this.report(),
    }
  }

  describe(rule: string, info: { name?: string; doc?: string }): void {
    if (typeof rule !== 'string' || !rule.startsWith('/')) {
      throw new TypeError(`server-status: describe() needs a rule that starts with "/" (got ${JSON.stringify(rule)})`)
    }
    this.#described.set(rule, { ...this.#described.get(rule), ...info })
  }

  /** Writes pending counts now; rejects when the store refuses them (they stay pending). */
  flush(): Promise<void> {
    // an explicit flush also makes the next report read what other instances wrote
    this.#forceRefresh = true
    return this.#exclusive(() => this.#flush())
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#timer) clearInterval(this.#timer)
      this.#timer = null
      // a store that stops answering must not hold the app's shutdown for ever
      const flushed = await withDeadline(this.flush(), CLOSE_WAIT_MS).catch((error: unknown) => error)
      if (flushed !== true) {
        const why = flushed === false ? `the store did not answer within ${CLOSE_WAIT_MS / 1000} s` : message(flushed)
        this.options.logger.error(`server-status: closing with ${countOf(this.recorder.pending())} requests not written: ${why}`)
      }
      this.#shut = true
      const store = this.#store ?? (await withDeadline(this.#opening ?? Promise.resolve(null), 1_000).catch(() => null))
      this.#store = null
      if (store !== null && typeof store === 'object') {
        await withDeadline(store.close(), CLOSE_WAIT_MS).catch((error: unknown) => {
          this.options.logger.warn(`server-status: closing the store failed: ${message(error)}`)
        })
      }
    })()
    return this.#closed
  }

  /**
   * The live report: what the store held at the last read, this process's writes since, the
   * batch being written and the pending counts. Waits at most `REPORT_WAIT_MS` for the store.
   */
  async report(): Promise<StatusReport> {
    this.#discover()
    const now = Date.now()
    const age = now - this.#snapshot.at
    const reachable = this.#downSince === null || now - this.#lastAttempt >= REOPEN_EVERY_MS
    if (reachable && (this.#forceRefresh || age >= Math.min(this.options.flushIntervalMs, 60_000))) {
      this.#refreshing ??= this.#exclusive(() => this.#refresh()).finally(() => {
        this.#refreshing = null
      })
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.#refreshing.catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, REPORT_WAIT_MS)
        }),
      ])
      clearTimeout(timer)
    }
    return this.#build(Date.now())
  }

  /** Builds the report synchronously, so it sees one consistent state of memory. */
  #build(now: number): StatusReport {
    const inflight = this.#inflight?.buckets ?? []
    const report = buildReportFrom({
      now,
      clock: this.clock,
      days: this.options.days,
      routes: this.#shownRoutes(),
      dayTally: this.#snapshot.days,
      minuteTally: this.#snapshot.minutes,
      pending: [...inflight, ...this.recorder.pending()],
      dropped: this.recorder.dropped,
      storageUnavailableSince: this.#downSince,
    })
    return report
  }

  /** Runs `task` after every earlier task, so a flush and a read never interleave. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(task, task)
    this.#lock = run.catch(() => {})
    return run
  }

  async #open(): Promise<Store> {
    if (this.#store) return this.#store
    if (this.#shut) throw new Error('server-status is closed')
    this.#opening ??= (async () => {
      const store = await createStore(this.options.database, { tablePrefix: this.options.tablePrefix })
      try {
        await store.init()
      } catch (error) {
        await store.close().catch(() => {})
        throw error
      }
      this.#store = store
      return store
    })()
    try {
      return await this.#opening
    } catch (error) {
      this.#opening = null
      this.#storageFailed(error)
      throw error
    }
  }

  async #flush(): Promise<void> {
    if (this.recorder.size === 0) return
    if (this.recorder.dropped > this.#droppedLogged) {
      this.options.logger.error(
        `server-status: ${this.recorder.dropped - this.#droppedLogged} requests dropped: more than ${this.options.maxPendingRouteMinutes} route-minutes were waiting for the store`,
      )
      this.#droppedLogged = this.recorder.dropped
    }
    const store = await this.#open()
    await this.#writeRetry(store)
    const buckets = this.recorder.drain()
    if (buckets.length > 0) await this.#write(store, { id: randomUUID(), buckets })
    await this.#prune(store)
  }

  /** Writes the batch of a failed flush again, before anything newer. */
  async #writeRetry(store: Store): Promise<void> {
    const retry = this.recorder.takeRetry()
    if (retry !== null && retry.buckets.length > 0) await this.#write(store, retry)
  }

  /** Writes one batch; on failure keeps it, whole, for the next flush. */
  async #write(store: Store, batch: Batch): Promise<void> {
    this.#inflight = batch
    try {
      await store.write(minuteCounts(batch.buckets, this.clock), batch.id)
    } catch (error) {
      this.#inflight = null
      this.recorder.setRetry(batch)
      this.#storageFailed(error)
      throw error
    }
    this.#inflight = null
    this.#storageBack()
    // the snapshot never holds a batch before its write is known to have gone through (no
    // read happens while a retry waits), so adding it here counts it once
    const snapshot = this.#snapshot
    const oldest = Math.floor(Date.now() / 60_000) - RECENT_MINUTES - 1
    for (const b of batch.buckets) {
      snapshot.days.add(b.rule, this.clock.dayOfMinute(b.minute), b)
      if (b.minute >= oldest) snapshot.minutes.add(b.rule, b.minute, b)
    }
  }

  async #prune(store: Store): Promise<void> {
    const now = Date.now()
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return
    this.#lastPrune = now
    const minute = Math.floor(now / 60_000) - this.options.minuteRetentionDays * 1440
    const day = addDays(this.clock.dayOf(now), -this.options.dayRetentionDays)
    await store.prune(minute, day).catch((error: unknown) => this.options.logger.warn(`server-status: pruning old rows failed: ${message(error)}`))
  }

  async #refresh(): Promise<void> {
    this.#lastAttempt = Date.now()
    const store = await this.#open()
    // a batch whose reply was lost may or may not be stored: settle it before reading, or the
    // read and the retry would count it twice
    await this.#writeRetry(store)
    const now = Date.now()
    const today = this.clock.dayOf(now)
    const old = this.#snapshot
    // an explicit flush() reads everything again, so a caller sees what all instances wrote
    const full = this.#forceRefresh || now - old.fullAt >= FULL_READ_EVERY_MS
    this.#forceRefresh = false
    const fromDay = full ? addDays(today, -this.options.days) : addDays(today, -1)
    const [records, dayRows, minuteRows] = await Promise.all([
      store.listRoutes(),
      store.readDays(fromDay),
      store.readMinutes(Math.floor(now / 60_000) - RECENT_MINUTES - 1),
    ])
    this.#records = new Map(records.map((r) => [r.rule, r]))
    const days = full ? new Tally<string>() : old.days
    if (!full) days.dropKeys((day) => day >= fromDay)
    for (const row of dayRows) days.add(row.rule, row.day, row)
    const minutes = new Tally<number>()
    for (const row of minuteRows) minutes.add(row.rule, row.minute, row)
    this.#snapshot = { at: now, fullAt: full ? now : old.fullAt, days, minutes }
    this.#storageBack()
  }

  #discover(): void {
    let routes: DiscoveredRoute[]
    try {
      routes = this.#app.discover()
    } catch (error) {
      this.options.logger.warn(`server-status: could not list the app's routes: ${message(error)}`)
      return
    }
    const found = new Map<string, DiscoveredRoute>()
    for (const route of routes) {
      if (!found.has(route.rule) && !this.owns(route.rule)) found.set(route.rule, route)
    }
    this.#discovered = found
  }

  #resolve(rule: string): ShownRoute {
    const record = this.#records.get(rule)
    const described = this.#described.get(rule)
    const discovered = this.#discovered.get(rule)
    return {
      rule,
      name: record?.name ?? described?.name ?? discovered?.name ?? rule,
      doc: record?.doc ?? described?.doc ?? discovered?.doc ?? '',
    }
  }

  #shownRoutes(): ShownRoute[] {
    const hidden = (rule: string) => this.#records.get(rule)?.hidden === true
    let rules: Iterable<string>
    if (this.options.routes) {
      rules = this.options.routes
    } else {
      const all = new Set<string>(this.#discovered.keys())
      for (const rule of [...this.#records.keys()].sort()) all.add(rule)
      for (const bucket of this.recorder.pending()) all.add(bucket.rule)
      rules = all
    }
    const shown: ShownRoute[] = []
    for (const rule of rules) {
      if (rule !== UNMATCHED && !hidden(rule) && !this.owns(rule)) shown.push(this.#resolve(rule))
    }
    return shown
  }

  #editor() {
    return {
      hasRule: async (rule: string) => {
        return this.#exclusive(async () => {
          this.#discover()
          if (this.#discovered.has(rule)) return true
          const store = await this.#open()
          this.#records = new Map((await store.listRoutes()).map((r) => [r.rule, r]))
          return rule !== UNMATCHED && this.#records.has(rule)
        })
      },
      rename: (rule: string, info: { name?: string; doc?: string }) =>
        this.#exclusive(async () => {
          const store = await this.#open()
          await store.registerRoutes([rule])
          // from the store, not memory: after a restart the route may be hidden unbeknown to us
          const wasHidden = (await store.listRoutes()).some((r) => r.rule === rule && r.hidden)
          const record = await store.updateRoute(rule, info)
          // counts taken while the route was deleted do not come back with it
          if (wasHidden) this.recorder.discard(rule)
          this.#records.set(rule, record)
          return this.#resolve(rule)
        }),
      remove: (rule: string) =>
        this.#exclusive(async () => {
          const store = await this.#open()
          await store.registerRoutes([rule])
          await store.deleteRoute(rule)
          this.recorder.discard(rule)
          this.#records.set(rule, { rule, name: null, doc: null, hidden: true })
          this.#snapshot.days.dropRule(rule)
          this.#snapshot.minutes.dropRule(rule)
        }),
    }
  }

  #storageFailed(error: unknown): void {
    if (this.#downSince !== null) return
    this.#downSince = new Date()
    this.options.logger.error(
      `server-status: storage unavailable (${message(error)}); counts stay in memory and are written when it is back`,
    )
  }

  #storageBack(): void {
    if (this.#downSince === null) return
    this.options.logger.warn(`server-status: storage available again after ${Math.round((Date.now() - this.#downSince.getTime()) / 1000)} s`)
    this.#downSince = null
  }
}

/** Resolves `true` once `work` is done, `false` when `ms` pass first; rejects as `work` does. */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
    timer.unref()
  })
  return Promise.race([work.then((value) => (value === undefined ? true : value)), late]).finally(() => clearTimeout(timer))
}

function storageNote(report: StatusReport): string | null {
  const notes: string[] = []
  if (report.storageUnavailableSince) notes.push(`Storage unavailable since ${report.storageUnavailableSince}; counts are held in memory until it is back.`)
  if (report.dropped > 0) notes.push(`${report.dropped} requests were dropped while storage was unavailable.`)
  return notes.length === 0 ? null : notes.join(' ')
}

/** Compares two strings in constant time (hashed first, so lengths do not show). */
export function safeEqual(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(a), digest(b))
}

function defaultCode(statusCode: number): OutcomeCode {
  if (statusCode >= 200 && statusCode < 400) return SUCCESS
  return statusCode === 404 || statusCode === 500 || statusCode === 502 || statusCode === 503 || statusCode === 504 ? FAILURE : IGNORED
}

function toCode(classify: ResolvedOptions['classify'], logger: ResolvedOptions['logger']): (statusCode: number) => OutcomeCode {
  if (classify === defaultClassify) return defaultCode
  let warned = false
  return (statusCode) => {
    let outcome: unknown
    try {
      outcome = classify(statusCode)
    } catch (error) {
      // the app's response is already sent; a faulty classify must not reach it
      if (!warned) logger.error(`server-status: classify(${statusCode}) threw, the request counts as ignored: ${message(error)}`)
      warned = true
      return IGNORED
    }
    return outcome === 'success' ? SUCCESS : outcome === 'failure' ? FAILURE : IGNORED
  }
}

function countOf(buckets: Iterable<Bucket>): number {
  let n = 0
  for (const b of buckets) n += b.success + b.failure + b.ignored
  return n
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
