// Builds the report from stored rows and pending buckets: days, uptimes and statuses.
import { statusOf, uptimeOf, worstStatus } from './classify.js'
import { UNMATCHED, type Bucket } from './recorder.js'
import { addDays, type DayClock } from './time.js'
import type { DayReport, DayRow, MinuteRow, RouteReport, StatusReport } from './types.js'

/** Minutes over which a route's current status is taken. */
export const RECENT_MINUTES = 15

/** A route to show, with its resolved name and doc. */
export interface ShownRoute {
  rule: string
  name: string
  doc: string
}

/** The four counters of a row, a bucket or a sum of them. */
export interface Counts {
  success: number
  failure: number
  ignored: number
  durationMs: number
}

/** Counts per rule and key (a day or a minute), summed as rows are added. */
export class Tally<K extends string | number> {
  readonly byRule = new Map<string, Map<K, Counts>>()

  add(rule: string, key: K, row: Counts): void {
    let byKey = this.byRule.get(rule)
    if (byKey === undefined) {
      byKey = new Map()
      this.byRule.set(rule, byKey)
    }
    addInto(byKey, key, row)
  }

  get(rule: string, key: K): Counts | undefined {
    return this.byRule.get(rule)?.get(key)
  }

  /** Forgets every key for which `drop` is true. */
  dropKeys(drop: (key: K) => boolean): void {
    for (const byKey of this.byRule.values()) {
      for (const key of byKey.keys()) if (drop(key)) byKey.delete(key)
    }
  }

  /** Forgets one rule. */
  dropRule(rule: string): void {
    this.byRule.delete(rule)
  }
}

/** Everything a report is built from, stored rows given as tallies. */
export interface TallyInput {
  now: number
  clock: DayClock
  days: number
  routes: readonly ShownRoute[]
  /** Stored counts per rule and `YYYY-MM-DD`. */
  dayTally: Tally<string>
  /** Stored counts per rule and minute since the epoch. */
  minuteTally: Tally<number>
  /** Counts not in the tallies yet. */
  pending: Iterable<Bucket>
  dropped?: number
  storageUnavailableSince?: Date | null
}

/** Everything a report is built from, stored rows given as arrays. */
export interface ReportInput extends Omit<TallyInput, 'dayTally' | 'minuteTally'> {
  dayRows: readonly DayRow[]
  minuteRows: readonly MinuteRow[]
}

/**
 * Sums stored day rows and pending buckets per route and day over the shown days, and takes
 * each route's current status over its last 15 minutes, else over today.
 */
export function buildReport(input: ReportInput): StatusReport {
  const dayTally = new Tally<string>()
  const minuteTally = new Tally<number>()
  for (const row of input.dayRows) dayTally.add(row.rule, row.day, row)
  for (const row of input.minuteRows) minuteTally.add(row.rule, row.minute, row)
  return buildReportFrom({ ...input, dayTally, minuteTally })
}

/** `buildReport` on tallies, which the core keeps between reports. */
export function buildReportFrom(input: TallyInput): StatusReport {
  const { clock, now } = input
  const today = clock.dayOf(now)
  const count = input.days
  // one string per shown date, shared by every route's days
  const dates: string[] = []
  for (let i = count - 1; i >= 0; i--) dates.push(addDays(today, -i))
  const firstDay = dates[0]!
  const nowMinute = Math.floor(now / 60_000)
  const firstRecent = nowMinute - RECENT_MINUTES + 1

  const pendingDays = new Tally<string>()
  const pendingRecent = new Map<string, Counts>()
  for (const bucket of input.pending) {
    const day = clock.dayOfMinute(bucket.minute)
    if (day >= firstDay && day <= today) pendingDays.add(bucket.rule, day, bucket)
    if (bucket.minute >= firstRecent && bucket.minute <= nowMinute) addInto(pendingRecent, bucket.rule, bucket)
  }
  const storedDays = input.dayTally.byRule

  let unmatched = 0
  {
    const stored = storedDays.get(UNMATCHED)
    const pending = pendingDays.byRule.get(UNMATCHED)
    for (let i = 0; i < count; i++) {
      const a = stored?.get(dates[i]!)
      const b = pending?.get(dates[i]!)
      if (a !== undefined) unmatched += a.success + a.failure + a.ignored
      if (b !== undefined) unmatched += b.success + b.failure + b.ignored
    }
  }

  // one pass per route over the shown dates: stored and pending counts summed straight into the day
  const shown = input.routes
  const routes: RouteReport[] = []
  for (let r = 0; r < shown.length; r++) {
    const route = shown[r]!
    const stored = storedDays.get(route.rule)
    const pending = pendingDays.byRule.get(route.rule)
    const sum: Counts = { success: 0, failure: 0, ignored: 0, durationMs: 0 }
    const days = dayReports(dates, stored, pending, sum)
    const { success, failure, ignored, durationMs } = sum

    const recent = pendingRecent.get(route.rule)
    let recentSuccess = recent?.success ?? 0
    let recentFailure = recent?.failure ?? 0
    const minutes = input.minuteTally.byRule.get(route.rule)
    if (minutes !== undefined) {
      for (const [minute, counts] of minutes) {
        if (minute >= firstRecent && minute <= nowMinute) {
          recentSuccess += counts.success
          recentFailure += counts.failure
        }
      }
    }
    const last = days[days.length - 1]!
    const current = recentSuccess + recentFailure > 0 ? uptimeOf(recentSuccess, recentFailure) : last.uptime
    const counted = success + failure + ignored
    routes.push({
      rule: route.rule,
      name: route.name,
      doc: route.doc,
      status: statusOf(current),
      uptime: uptimeOf(success, failure),
      success,
      failure,
      ignored,
      avgResponseMs: counted === 0 ? null : Math.round((durationMs / counted) * 100) / 100,
      days,
    })
  }

  return {
    generatedAt: new Date(now).toISOString(),
    timeZone: clock.timeZone,
    days: input.days,
    status: worstStatus(routes.map((route) => route.status)),
    unmatched,
    dropped: input.dropped ?? 0,
    storageUnavailableSince: input.storageUnavailableSince?.toISOString() ?? null,
    routes,
  }
}

/**
 * The report of each shown date for one route, from its stored and pending counts by date;
 * the route's totals are added into `sum`.
 */
function dayReports(dates: readonly string[], stored: Map<string, Counts> | undefined, pending: Map<string, Counts> | undefined, sum: Counts): DayReport[] {
  const count = dates.length
  const days = new Array<DayReport>(count)
  let durationMs = 0
  let success = 0
  let failure = 0
  let ignored = 0
  for (let i = 0; i < count; i++) {
    const date = dates[i]!
    let s = 0
    let f = 0
    let g = 0
    const a = stored === undefined ? undefined : stored.get(date)
    if (a !== undefined) {
      s = a.success
      f = a.failure
      g = a.ignored
      durationMs += a.durationMs
    }
    const b = pending === undefined ? undefined : pending.get(date)
    if (b !== undefined) {
      s += b.success
      f += b.failure
      g += b.ignored
      durationMs += b.durationMs
    }
    success += s
    failure += f
    ignored += g
    const uptime = uptimeOf(s, f)
    days[i] = { date, success: s, failure: f, ignored: g, uptime, status: statusOf(uptime) }
  }
  sum.success += success
  sum.failure += failure
  sum.ignored += ignored
  sum.durationMs += durationMs
  return days
}

/** Adds a row's counters to the sum under `key`, starting one where there is none. */
function addInto<K>(map: Map<K, Counts>, key: K, row: Counts): void {
  const counts = map.get(key)
  if (counts === undefined) {
    map.set(key, { success: row.success, failure: row.failure, ignored: row.ignored, durationMs: row.durationMs })
  } else {
    counts.success += row.success
    counts.failure += row.failure
    counts.ignored += row.ignored
    counts.durationMs += row.durationMs
  }
}
