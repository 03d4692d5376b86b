// The seed's classification of status codes, and statuses derived from uptime.
import type { Outcome, Status } from './types.js'

/**
 * The default rule: 200–399 success; 404, 500, 502, 503, 504 failure; every other code ignored.
 *
 * @example defaultClassify(503) // 'failure'
 */
export function defaultClassify(statusCode: number): Outcome {
  if (statusCode >= 200 && statusCode < 400) return 'success'
  switch (statusCode) {
    case 404:
    case 500:
    case 502:
    case 503:
    case 504:
      return 'failure'
    default:
      return 'ignore'
  }
}

/** `success / (success + failure)`, or `null` where nothing was counted. */
export function uptimeOf(success: number, failure: number): number | null {
  const total = success + failure
  return total === 0 ? null : success / total
}

/**
 * The status of an uptime: 1 → operational, below 0.3 → major outage, otherwise partial
 * outage; `null` (nothing counted) → no data.
 */
export function statusOf(uptime: number | null): Status {
  if (uptime === null) return 'no_data'
  if (uptime === 1) return 'operational'
  if (uptime < 0.3) return 'major_outage'
  return 'partial_outage'
}

const SEVERITY: Record<Status, number> = { no_data: 0, operational: 1, partial_outage: 2, major_outage: 3 }

/** The worst of several statuses, ignoring `no_data`; `operational` when none has data. */
export function worstStatus(statuses: Iterable<Status>): Exclude<Status, 'no_data'> {
  let worst: Exclude<Status, 'no_data'> = 'operational'
  for (const status of statuses) {
    if (status !== 'no_data' && SEVERITY[status] > SEVERITY[worst]) worst = status
  }
  return worst
}
