// Renders the status page: one HTML document from a StatusReport, no inline script or style.

import type { DayReport, RouteReport, Status, StatusReport } from '../types.js'
import { escapeHtml, html, raw } from './html.js'
import type { HtmlString } from './html.js'

/** Options of `renderPage()`. */
export interface RenderPageOptions {
  /** Page heading and document title. @example 'System Status' */
  title: string
  /** URL folder where `status.css` is served, without a trailing slash. @example '/status/assets' */
  assetPath: string
  /** A warning shown in a banner above the routes, e.g. that counts live in a temporary file. Default none. */
  storageNote?: string | null
  /** Seconds between automatic reloads of the page. Default `60`; `0` turns reloading off. */
  refreshSeconds?: number
}

/** Label of each status, as shown on badges and in tooltips. */
export const STATUS_LABELS: Readonly<Record<Status, string>> = {
  operational: 'Fully Operational',
  partial_outage: 'Partial Outage',
  major_outage: 'Major Outage',
  no_data: 'No Data',
}

/** Label of the page's overall status. */
export const OVERALL_LABELS: Readonly<Record<StatusReport['status'], string>> = {
  operational: 'All Systems Operational',
  partial_outage: 'Partial System Outage',
  major_outage: 'Major System Outage',
}

const FAVICON_COLORS: Readonly<Record<StatusReport['status'], string>> = {
  operational: '#4caf50',
  partial_outage: '#f5a623',
  major_outage: '#e5484d',
}

const DAY_FORMAT = new Intl.DateTimeFormat('en-US', {
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  timeZone: 'UTC',
})


/**
 * Formats an uptime ratio with two decimals, rounding down so that anything short of
 * perfect never shows as `100.00%`.
 *
 * @example formatUptime(0.99951) // '99.95%'
 */
export function formatUptime(uptime: number): string {
  const hundredths = Math.floor(uptime * 10000 + 1e-7)
  if (!(hundredths >= 0 && hundredths <= 10000)) return `${(hundredths / 100).toFixed(2)}%`
  // a page formats the same few thousand values over and over: each once
  let text = UPTIME_TEXTS[hundredths]
  if (text === undefined) {
    text = `${(hundredths / 100).toFixed(2)}%`
    UPTIME_TEXTS[hundredths] = text
  }
  return text
}

/** `formatUptime()` by hundredths of a percent, 0 to 10,000, filled as values are met. */
const UPTIME_TEXTS: Array<string | undefined> = new Array<string | undefined>(10001).fill(undefined)

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/

/** Formats a `YYYY-MM-DD` day as `Dec 4, 2026`; anything else is returned unchanged. */
export function formatDay(date: string): string {
  if (!DATE_PATTERN.test(date)) return date
  const time = Date.parse(`${date}T00:00:00Z`)
  return Number.isNaN(time) ? date : DAY_FORMAT.format(time)
}

/** A day's date as HTML, escaped: its label, and the middle of its square from `data-date` on. */
interface DayHtml {
  readonly label: string
  readonly middle: string
}

// A page shows the same few hundred dates in every card, and a new date appears once a day, so
// a small cache shared between renders formats each date once; it is emptied when full.
const DAY_CACHE_LIMIT = 1024
const dayCache = new Map<string, DayHtml>()

function dayHtml(date: string): DayHtml {
  let cached = dayCache.get(date)
  if (cached === undefined) {
    if (dayCache.size >= DAY_CACHE_LIMIT) dayCache.clear()
    const label = escapeHtml(formatDay(date))
    cached = { label, middle: `${escapeHtml(date)}" tabindex="0" aria-label="${label}\n` }
    dayCache.set(date, cached)
  }
  return cached
}

const timestampFormats = new Map<string, Intl.DateTimeFormat>()

function formatTimestamp(iso: string, timeZone: string): string {
  const time = Date.parse(iso)
  if (Number.isNaN(time)) return iso
  let format = timestampFormats.get(timeZone)
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        month: 'short',
        day: 'numeric',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        timeZone,
        timeZoneName: 'short',
      })
    } catch {
      return iso
    }
    timestampFormats.set(timeZone, format)
  }
  return format.format(time)
}

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`
}

function formatMs(ms: number): string {
  if (ms < 10) return `${(Math.round(ms * 10) / 10).toString()} ms`
  return `${Math.round(ms).toLocaleString('en-US')} ms`
}

function lastDays(days: number): string {
  return days === 1 ? 'the last day' : `the last ${days.toString()} days`
}

/** Short class of each day status on the squares. */
const DAY_CLASSES: Readonly<Record<Status, string>> = {
  operational: 'ok',
  partial_outage: 'partial',
  major_outage: 'major',
  no_data: 'none',
}

type Edge = 0 | 1 | 2

function byStatus<T>(make: (status: Status) => T): Readonly<Record<Status, T>> {
  return {
    operational: make('operational'),
    partial_outage: make('partial_outage'),
    major_outage: make('major_outage'),
    no_data: make('no_data'),
  }
}

/** The opening of a square up to `data-date="`, by status and edge (none, left, right). */
const SQUARE_OPENINGS = byStatus((status): readonly [string, string, string] => {
  const open = `<li class="day ${DAY_CLASSES[status]}`
  return [`${open}" data-date="`, `${open} left" data-date="`, `${open} right" data-date="`]
})

/** The status line of a tooltip without an uptime. */
const STATUS_LINES = byStatus((status) => `${STATUS_LABELS[status]}\n`)

/**
 * The squares of one card. Each square is a focusable list item whose `aria-label` is also its
 * tooltip, drawn by the stylesheet from `attr(aria-label)` on hover and focus; the label's line
 * breaks are literal newlines, kept by `white-space: pre-line`. The `</li>` end tag is left out,
 * as HTML allows when the next element is another `<li>` or the list ends.
 *
 * Built from precomputed pieces and joined once rather than with one `html``` call per square:
 * it runs for every day of every route. Only dates can come from outside, and `dayHtml()`
 * escapes them; the rest are numbers and fixed labels.
 */
function renderDays(days: readonly DayReport[]): string {
  const count = days.length
  // every piece goes into one list, joined once: no string is made for a square on its own
  const parts: string[] = []
  for (let i = 0; i < count; i++) {
    const day = days[i] as DayReport
    // Squares in the first and last third get their tooltip anchored to that side, so a wide
    // tooltip over a narrow square never spills past the card (or the screen) edge.
    const edge: Edge = i * 3 < count ? 1 : (i + 1) * 3 > count * 2 ? 2 : 0
    parts.push(SQUARE_OPENINGS[day.status][edge], middleAt(i, day.date))
    // "Fully Operational" already says 100%, so only an outage day shows its uptime.
    if (day.uptime === null || day.status === 'operational') parts.push(STATUS_LINES[day.status])
    else parts.push(STATUS_LABELS[day.status], ' (', formatUptime(day.uptime), ')\n')
    parts.push(String(day.success), ' successful, ', String(day.failure))
    if (day.ignored > 0) parts.push(' failed, ', String(day.ignored), ' ignored">')
    else parts.push(' failed">')
  }
  return parts.join('')
}

// Every card of a page shows the same dates in the same places: the square's middle is kept
// by place, and the date cache is asked again only where a card has another date there.
const columnDates: string[] = []
const columnMiddles: string[] = []

function middleAt(i: number, date: string): string {
  if (columnDates[i] === date) return columnMiddles[i] as string
  const middle = dayHtml(date).middle
  columnDates[i] = date
  columnMiddles[i] = middle
  return middle
}

function renderRoute(route: RouteReport, index: number, days: number): HtmlString {
  const id = `route-${index.toString()}`
  const uptime =
    route.uptime === null
      ? html`<span class="uptime-none">No data in ${lastDays(days)}</span>`
      : html`<strong>${formatUptime(route.uptime)}</strong> in ${lastDays(days)}`
  const avg =
    route.avgResponseMs === null
      ? null
      : html`<span class="avg" title="Mean response time">avg ${formatMs(route.avgResponseMs)}</span>`
  const doc = route.doc.trim() === '' ? null : html`<p class="route-doc">${route.doc.trim()}</p>`
  const count = route.days.length
  const squares = raw(renderDays(route.days))
  const first = route.days[0]
  const axis =
    count > 1 && first
      ? html`<div class="axis" aria-hidden="true"><span>${raw(dayHtml(first.date).label)}</span><span>Today</span></div>`
      : null
  return html`<section class="route route-${route.status}" data-rule="${route.rule}" aria-labelledby="${id}">
<div class="route-head"><h2 class="route-name" id="${id}">${route.name}</h2><span class="badge badge-${route.status}">${STATUS_LABELS[route.status]}</span></div>
${doc}<div class="route-meta"><code class="route-rule">${route.rule}</code><span class="route-stats">${avg}<span class="uptime">${uptime}</span></span></div>
<ul class="days${count > 180 ? ' days-many days-dense' : count > 60 ? ' days-many' : ''}" aria-label="Daily status of ${route.name}, ${lastDays(days)}">${squares}</ul>
${axis}
</section>`
}

function favicon(status: StatusReport['status']): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${FAVICON_COLORS[status]}"/></svg>`
  return `data:image/svg+xml,${encodeURIComponent(svg)}`
}

/**
 * Renders the whole status page as an HTML5 document. Every value taken from the report or
 * the options is escaped; the page carries no inline script or style, so it works under
 * `default-src 'none'; style-src 'self'` and without JavaScript.
 *
 * @example
 * const page = renderPage(await status.report(), { title: 'System Status', assetPath: '/status/assets' })
 */
export function renderPage(report: StatusReport, options: RenderPageOptions): string {
  const refresh = options.refreshSeconds ?? 60
  const assetPath = options.assetPath.replace(/\/+$/, '')
  const overallStatus = Object.hasOwn(OVERALL_LABELS, report.status) ? report.status : 'operational'
  const overall = OVERALL_LABELS[overallStatus]
  const note = options.storageNote
    ? html`<p class="notice" role="note"><strong>Warning:</strong> ${options.storageNote}</p>`
    : null
  const routes =
    report.routes.length === 0
      ? html`<p class="empty">No routes are monitored yet.</p>`
      : report.routes.map((route, i) => html`${renderRoute(route, i, report.days)}\n`)
  const unmatched =
    report.unmatched > 0
      ? html`<p class="unmatched">${plural(report.unmatched, 'request', 'requests')} matched no route</p>`
      : null
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh > 0 ? html`<meta http-equiv="refresh" content="${refresh}">` : null}
<meta name="color-scheme" content="light">
<title>${options.title}</title>
<link rel="icon" href="${favicon(overallStatus)}">
<link rel="stylesheet" href="${assetPath}/status.css">
</head>
<body>
<main class="panel">
<header class="page-head">
<h1>${options.title}</h1>
<span class="chip">System Status</span>
</header>
${note}
<p class="overall overall-${overallStatus}"><span class="overall-dot" aria-hidden="true"></span><span class="overall-label">${overall}</span></p>
<div class="routes">
${routes}</div>
<p class="updated">Updated <time datetime="${report.generatedAt}">${formatTimestamp(report.generatedAt, report.timeZone)}</time>${raw(' &middot; ')}days start at midnight ${report.timeZone}</p>
</main>
<footer class="page-foot">
${unmatched}
<p>Powered by <a href="https://www.npmjs.com/package/server-status" rel="noopener noreferrer">server-status</a>${raw(' &middot; ')}Look forked from <a href="https://github.com/statsig-io/statuspage" rel="noopener noreferrer">Statsig's open-source status page</a></p>
</footer>
</body>
</html>
`
  return doc.value
}
