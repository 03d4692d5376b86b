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

/** Everything a report is built from. */
export interface ReportInput {
  now: number
  clock: DayClock
  days: number
  routes: readonly ShownRoute[]
  dayRows: readonly DayRow[]
  minuteRows: readonly MinuteRow[]
  pending: Iterable<Bucket>
  dropped?: number
  storageUnavailableSince?: Date | null
}

interface Counts {
  success: number
  failure: number
  ignored: number
  durationMs: number
}

function add(map: Map<string, Counts>, key: string, row: Counts): void {
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

/**
 * Sums stored day rows and pending buckets per route and day over the shown days, and takes
 * each route's current status over its last 15 minutes, else over today.
 */
export function buildReport(input: ReportInput): StatusReport {
  const { clock, now } = input
  const today = clock.dayOf(now)
  const dates: string[] = []
  for (let i = input.days - 1; i >= 0; i--) dates.push(addDays(today, -i))
  const firstDay = dates[0]!
  const nowMinute = Math.floor(now / 60_000)
  const firstRecent = nowMinute - RECENT_MINUTES + 1

  // rule + '\n' + day → counts; rule → recent counts
  const byDay = new Map<string, Counts>()
  const recent = new Map<string, Counts>()
  for (const row of input.dayRows) {
    if (row.day >= firstDay && row.day <= today) add(byDay, `${row.rule}\n${row.day}`, row)
  }
  for (const row of input.minuteRows) {
    if (row.minute >= firstRecent && row.minute <= nowMinute) add(recent, row.rule, row)
  }
  for (const bucket of input.pending) {
    const day = clock.dayOfMinute(bucket.minute)
    if (day >= firstDay && day <= today) add(byDay, `${bucket.rule}\n${day}`, bucket)
    if (bucket.minute >= firstRecent && bucket.minute <= nowMinute) add(recent, bucket.rule, bucket)
  }

  let unmatched = 0
  for (const date of dates) {
    const counts = byDay.get(`${UNMATCHED}\n${date}`)
    if (counts) unmatched += counts.success + counts.failure + counts.ignored
  }

  const routes: RouteReport[] = input.routes.map((route) => {
    let success = 0
    let failure = 0
    let ignored = 0
    let durationMs = 0
    const days: DayReport[] = dates.map((date) => {
      const counts = byDay.get(`${route.rule}\n${date}`)
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
    const last = recent.get(route.rule)
    const current = last && last.success + last.failure > 0 ? last : days[days.length - 1]!
    const counted = success + failure + ignored
    const uptime = uptimeOf(success, failure)
    return {
      rule: route.rule,
      name: route.name,
      doc: route.doc,
      status: statusOf(uptimeOf(current.success, current.failure)),
      uptime,
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
