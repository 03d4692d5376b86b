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
  const dates: string[] = []
  for (let i = input.days - 1; i >= 0; i--) dates.push(addDays(today, -i))
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

  const dayCounts = (rule: string): Array<Counts | undefined> => {
    const stored = input.dayTally.byRule.get(rule)
    const pending = pendingDays.byRule.get(rule)
    return dates.map((date) => {
      const a = stored?.get(date)
      const b = pending?.get(date)
      if (a === undefined || b === undefined) return a ?? b
      return {
        success: a.success + b.success,
        failure: a.failure + b.failure,
        ignored: a.ignored + b.ignored,
        durationMs: a.durationMs + b.durationMs,
      }
    })
  }

  let unmatched = 0
  for (const counts of dayCounts(UNMATCHED)) if (counts) unmatched += counts.success + counts.failure + counts.ignored

  const routes: RouteReport[] = input.routes.map((route) => {
    let success = 0
    let failure = 0
    let ignored = 0
    let durationMs = 0
    const perDay = dayCounts(route.rule)
    const days: DayReport[] = dates.map((date, i) => {
      const counts = perDay[i]
      const s = counts?.success ?? 0
      const f = counts?.failure ?? 0
      const g = counts?.ignored ?? 0
      success += s
      failure += f
      ignored += g
      durationMs += counts?.durationMs ?? 0
      const uptime = uptimeOf(s, f)
      return { date, success: s, failure: f, ignored: g, uptime, status: statusOf(uptime) }
    })

    let recentSuccess = pendingRecent.get(route.rule)?.success ?? 0
    let recentFailure = pendingRecent.get(route.rule)?.failure ?? 0
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
    return {
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
    }
  })

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
