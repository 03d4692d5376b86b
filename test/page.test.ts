// Tests of the status page renderer: escaping, squares, labels, uptime text and the CSP-safe markup.

import { describe, expect, it } from 'vitest'
import { STATUS_CSS, STATUS_CSS_ETAG, contentEtag } from '../src/page/assets.js'
import { HtmlString, escapeHtml, html, raw } from '../src/page/html.js'
import { formatDay, formatUptime, renderPage } from '../src/page/render.js'
import type { DayReport, RouteReport, Status, StatusReport } from '../src/types.js'

const OPTIONS = { title: 'System Status', assetPath: '/status/assets' }

function statusOf(uptime: number | null): Status {
  if (uptime === null) return 'no_data'
  if (uptime === 1) return 'operational'
  return uptime < 0.3 ? 'major_outage' : 'partial_outage'
}

function makeDays(count: number, counts: (i: number) => [number, number, number] = () => [0, 0, 0]): DayReport[] {
  const last = Date.UTC(2026, 11, 4)
  return Array.from({ length: count }, (_, i) => {
    const [success, failure, ignored] = counts(i)
    const uptime = success + failure === 0 ? null : success / (success + failure)
    return {
      date: new Date(last - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10),
      success,
      failure,
      ignored,
      uptime,
      status: statusOf(uptime),
    }
  })
}

function makeRoute(overrides: Partial<RouteReport> = {}, days = 30): RouteReport {
  return {
    rule: '/users/:id',
    name: 'Users',
    doc: '',
    status: 'operational',
    uptime: 1,
    success: 10,
    failure: 0,
    ignored: 0,
    avgResponseMs: 12,
    days: makeDays(days, (i) => (i === days - 1 ? [10, 0, 0] : [0, 0, 0])),
    ...overrides,
  }
}

function makeReport(routes: RouteReport[], overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    generatedAt: '2026-12-04T15:20:00.000Z',
    timeZone: 'UTC',
    days: 30,
    status: 'operational',
    unmatched: 0,
    dropped: 0,
    storageUnavailableSince: null,
    routes,
    ...overrides,
  }
}

function count(haystack: string, needle: RegExp): number {
  return haystack.match(needle)?.length ?? 0
}

/**
 * Every attribute name of every tag, failing if a tag holds anything but well-formed
 * `name` or `name="value"` attributes (an escaped value can never close its quotes).
 */
function attributeNames(page: string): string[] {
  const names: string[] = []
  for (const [, attrs = ''] of page.matchAll(/<[a-z][a-z0-9]*((?:\s[^>]*)?)>/gi)) {
    const rest = attrs.replace(/\s([a-z][a-z0-9:-]*)(?:="([^"<>`]*)")?/gi, (_, name: string) => {
      names.push(name.toLowerCase())
      return ''
    })
    expect(rest.trim()).toBe('')
  }
  return names
}

/** The part of the page between `<section ... data-rule="rule">` and its `</section>`. */
function card(page: string, index = 0): string {
  const parts = page.split('<section class="route ')
  const part = parts[index + 1]
  if (part === undefined) throw new Error(`no card ${index.toString()}`)
  return part.slice(0, part.indexOf('</section>'))
}

describe('html template', () => {
  it('escapes & < > " \' and backtick in interpolated values', () => {
    expect(String(html`<p title="${'"&\'`'}">${'<b>'}</p>`)).toBe('<p title="&quot;&amp;&#39;&#96;">&lt;b&gt;</p>')
    expect(escapeHtml('a & b < c > d " e \' f ` g')).toBe('a &amp; b &lt; c &gt; d &quot; e &#39; f &#96; g')
  })

  it('joins arrays, escaping plain strings and keeping nested html as is', () => {
    const items = ['<a>', 'b'].map((name) => html`<li>${name}</li>`)
    expect(String(html`<ul>${items}${['<i>', raw('<hr>')]}</ul>`)).toBe('<ul><li>&lt;a&gt;</li><li>b</li>&lt;i&gt;<hr></ul>')
  })

  it('drops null, undefined and false, prints numbers', () => {
    expect(String(html`${null}${undefined}${false}${0}${1.5}`)).toBe('01.5')
  })

  it('returns an HtmlString that is not escaped twice', () => {
    const inner = html`<b>${'&'}</b>`
    expect(inner).toBeInstanceOf(HtmlString)
    expect(html`<p>${inner}</p>`.value).toBe('<p><b>&amp;</b></p>')
  })
})

describe('renderPage', () => {
  it('returns a complete HTML5 document that refreshes every minute', () => {
    const page = renderPage(makeReport([makeRoute()]), OPTIONS)
    expect(page.startsWith('<!doctype html>')).toBe(true)
    expect(page).toContain('<html lang="en">')
    expect(page).toContain('<meta charset="utf-8">')
    expect(page).toContain('<meta http-equiv="refresh" content="60">')
    expect(page).toContain('<title>System Status</title>')
    expect(page).toContain('<h1>System Status</h1>')
    expect(page).toContain('System Status</span>')
    expect(page.trimEnd().endsWith('</html>')).toBe(true)
  })

  it('honours refreshSeconds, and 0 turns reloading off', () => {
    expect(renderPage(makeReport([]), { ...OPTIONS, refreshSeconds: 300 })).toContain('content="300"')
    expect(renderPage(makeReport([]), { ...OPTIONS, refreshSeconds: 0 })).not.toContain('http-equiv="refresh"')
  })

  it('links the stylesheet under assetPath and loads nothing from outside the app', () => {
    const page = renderPage(makeReport([makeRoute()]), OPTIONS)
    expect(page).toContain('<link rel="stylesheet" href="/status/assets/status.css">')
    expect(renderPage(makeReport([]), { ...OPTIONS, assetPath: '/status/assets/' })).toContain(
      'href="/status/assets/status.css"',
    )
    // Only anchors may point elsewhere; nothing that the browser fetches by itself.
    for (const match of page.matchAll(/<(link|script|img|iframe|source)\b[^>]*>/g)) {
      expect(match[0]).not.toMatch(/(src|href)="(https?:)?\/\//)
    }
    expect(STATUS_CSS).not.toMatch(/@import|url\(\s*['"]?(https?:)?\/\//)
    expect(STATUS_CSS).not.toMatch(/@font-face/)
  })

  it('has no inline script, no inline style attribute and no <style> block', () => {
    const page = renderPage(
      makeReport([makeRoute(), makeRoute({ rule: '/', name: 'Index', uptime: null, status: 'no_data' })], {
        unmatched: 3,
      }),
      { ...OPTIONS, storageNote: 'Counts live in a temporary file.' },
    )
    expect(page).not.toMatch(/\sstyle\s*=/i)
    expect(page).not.toMatch(/<style[\s>]/i)
    for (const match of page.matchAll(/<script\b[^>]*>/gi)) expect(match[0]).toMatch(/\ssrc=/)
    expect(attributeNames(page).filter((name) => name.startsWith('on') || name === 'style')).toEqual([])
  })

  it('escapes every value taken from a route or the options', () => {
    const payloads = [
      '<img src=x onerror=alert(1)>',
      '</script><script>alert(1)</script>',
      '" onmouseover="alert(1)',
      "' onfocus='alert(1)",
      'javascript:alert(1)',
      '`${alert(1)}`',
    ]
    for (const payload of payloads) {
      const route = makeRoute({ rule: `/x/${payload}`, name: payload, doc: payload })
      const page = renderPage(makeReport([route]), {
        ...OPTIONS,
        title: payload,
        storageNote: payload,
      })
      expect(page).not.toContain('<img')
      expect(page).not.toMatch(/<script/i)
      expect(page).not.toContain('</script>')
      expect(attributeNames(page).filter((name) => name.startsWith('on'))).toEqual([])
      expect(page).not.toContain('`')
      expect(page).not.toMatch(/(href|src)="javascript:/i)
      expect(page).toContain(escapeHtml(payload))
    }
    const page = renderPage(makeReport([makeRoute({ name: '<img src=x onerror=alert(1)>' })]), OPTIONS)
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(renderPage(makeReport([makeRoute({ rule: '/a"b' })]), OPTIONS)).toContain('data-rule="/a&quot;b"')
  })

  it('escapes the rule, name, doc, title and storage note in every place each one appears', () => {
    const evil = (field: string): string => `<b x="${field}" y='1'>&${field}\``
    const shown = (field: string): string => escapeHtml(evil(field))
    const route = makeRoute({ rule: evil('rule'), name: evil('name'), doc: evil('doc') })
    const page = renderPage(makeReport([route]), { ...OPTIONS, title: evil('title'), storageNote: evil('note') })
    expect(page).toContain(`<title>${shown('title')}</title>`)
    expect(page).toContain(`<h1>${shown('title')}</h1>`)
    expect(page).toContain(`<strong>Warning:</strong> ${shown('note')}</p>`)
    expect(page).toContain(`data-rule="${shown('rule')}"`)
    expect(page).toContain(`<code class="route-rule">${shown('rule')}</code>`)
    expect(page).toContain(`<h2 class="route-name" id="route-0">${shown('name')}</h2>`)
    expect(page).toContain(`aria-label="Daily status of ${shown('name')}, the last 30 days"`)
    expect(page).toContain(`<p class="route-doc">${shown('doc')}</p>`)
    expect(page).not.toMatch(/<b[\s>]/)
    expect(page).not.toContain('`')
    expect(page).not.toContain("'1'")
    expect(attributeNames(page).filter((name) => !/^[a-z-]+$/.test(name) || ['x', 'y'].includes(name))).toEqual([])
  })

  it('draws one square per day, oldest first, with its date and status', () => {
    for (const days of [1, 7, 30, 90, 365]) {
      const route = makeRoute({}, days)
      const page = renderPage(makeReport([route], { days }), OPTIONS)
      expect(count(page, /<li class="day /g)).toBe(days)
      expect(count(page, /tabindex="0"/g)).toBe(days)
      const dates = [...page.matchAll(/data-date="(\d{4}-\d{2}-\d{2})"/g)].map((m) => m[1])
      expect(dates).toEqual(route.days.map((day) => day.date))
      expect(dates.at(-1)).toBe('2026-12-04')
    }
  })

  it('colours each square by its day status and labels it for keyboard and screen reader users', () => {
    const route = makeRoute({
      status: 'partial_outage',
      uptime: 0.5,
      days: makeDays(4, (i) => [[3, 0, 0], [3, 2, 1], [1, 9, 0], [0, 0, 4]][i] as [number, number, number]),
    })
    const page = renderPage(makeReport([route], { days: 4 }), OPTIONS)
    expect(page).toMatch(/class="day ok[^"]*" data-date="2026-12-01"/)
    expect(page).toMatch(/class="day partial[^"]*" data-date="2026-12-02"/)
    expect(page).toMatch(/class="day major[^"]*" data-date="2026-12-03"/)
    expect(page).toMatch(/class="day none[^"]*" data-date="2026-12-04"/)
    // The label is also the tooltip, one fact a line: date, status (uptime of an outage), counts.
    expect(page).toContain('aria-label="Dec 1, 2026\nFully Operational\n3 successful, 0 failed"')
    expect(page).toContain('aria-label="Dec 2, 2026\nPartial Outage (60.00%)\n3 successful, 2 failed, 1 ignored"')
    expect(page).toContain('aria-label="Dec 3, 2026\nMajor Outage (10.00%)\n1 successful, 9 failed"')
    expect(page).toContain('aria-label="Dec 4, 2026\nNo Data\n0 successful, 0 failed, 4 ignored"')
    // The tooltip lives in the stylesheet, not in extra markup.
    expect(page).not.toContain('class="tip')
    expect(count(page, /<li [^>]*>(?=<li |<\/ul>)/g)).toBe(4)
  })

  it('anchors the tooltips of the first and last third of the squares to their side', () => {
    const classes = (days: number): string[] => {
      const page = renderPage(makeReport([makeRoute({}, days)], { days }), OPTIONS)
      return [...page.matchAll(/<li class="day \w+( left| right)?"/g)].map((m) => (m[1] ?? '').trim())
    }
    expect(classes(1)).toEqual(['left'])
    expect(classes(3)).toEqual(['left', '', 'right'])
    const month = classes(30)
    expect(month.slice(0, 10).every((edge) => edge === 'left')).toBe(true)
    expect(month.slice(10, 20).every((edge) => edge === '')).toBe(true)
    expect(month.slice(20).every((edge) => edge === 'right')).toBe(true)
  })

  it('keeps a square to about a hundred bytes', () => {
    const route = makeRoute({}, 90)
    route.days = makeDays(90, (i) => (i % 10 === 3 ? [480, 12, 3] : [400 + i, 0, 0]))
    const page = renderPage(makeReport([route], { days: 90 }), OPTIONS)
    const squares = [...page.matchAll(/<li [^>]*>(?=<li |<\/ul>)/g)].map((m) => Buffer.byteLength(m[0]))
    expect(squares).toHaveLength(90)
    const mean = squares.reduce((a, b) => a + b, 0) / squares.length
    expect(mean).toBeLessThanOrEqual(130)
    expect(Math.max(...squares)).toBeLessThanOrEqual(160)
  })

  it('grows linearly: 1,000 routes of 90 days are ten times 100 routes, rendered well within a second', () => {
    const routes = (n: number): RouteReport[] =>
      Array.from({ length: n }, (_, i) => makeRoute({ rule: `/r/${String(i).padStart(4, '0')}`, name: `R${String(i).padStart(4, '0')}` }, 90))
    const base = renderPage(makeReport([], { days: 90 }), OPTIONS).length
    const hundred = renderPage(makeReport(routes(100), { days: 90 }), OPTIONS).length - base
    const many = makeReport(routes(1000), { days: 90 })
    renderPage(many, OPTIONS)
    const started = performance.now()
    const thousand = renderPage(many, OPTIONS).length - base
    const elapsed = performance.now() - started
    expect(Math.abs(thousand - 10 * hundred) / thousand).toBeLessThan(0.01)
    expect(thousand / (1000 * 90)).toBeLessThan(200)
    // a generous bound, far from the few tens of ms it takes, that only a regression crosses
    expect(elapsed).toBeLessThan(1000)
  })

  it('escapes a day date that is not YYYY-MM-DD in its square and on the axis', () => {
    const days = makeDays(3)
    days[0] = { ...days[0]!, date: '"><img src=x onerror=alert(1)>' }
    const page = renderPage(makeReport([makeRoute({ days })], { days: 3 }), OPTIONS)
    expect(page).not.toContain('<img')
    expect(page).toContain('data-date="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"')
    expect(page).toContain('aria-label="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\nNo Data')
    expect(page).toContain('<span>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</span>')
    expect(attributeNames(page).filter((name) => name.startsWith('on'))).toEqual([])
  })

  it('shows the badge label of each route status', () => {
    const statuses: [Status, string][] = [
      ['operational', 'Fully Operational'],
      ['partial_outage', 'Partial Outage'],
      ['major_outage', 'Major Outage'],
      ['no_data', 'No Data'],
    ]
    const routes = statuses.map(([status], i) => makeRoute({ rule: `/r${i.toString()}`, status }))
    const page = renderPage(makeReport(routes), OPTIONS)
    statuses.forEach(([status, label], i) => {
      expect(card(page, i)).toContain(`<span class="badge badge-${status}">${label}</span>`)
    })
  })

  it('shows the overall status line', () => {
    expect(renderPage(makeReport([], { status: 'operational' }), OPTIONS)).toContain('All Systems Operational')
    expect(renderPage(makeReport([], { status: 'partial_outage' }), OPTIONS)).toContain('Partial System Outage')
    expect(renderPage(makeReport([], { status: 'major_outage' }), OPTIONS)).toContain('Major System Outage')
  })

  it('formats uptime with two decimals over report.days, or says there is no data', () => {
    const page = renderPage(
      makeReport(
        [
          makeRoute({ rule: '/a', uptime: 0.9995 }),
          makeRoute({ rule: '/b', uptime: 1 }),
          makeRoute({ rule: '/c', uptime: 0.6 }),
          makeRoute({ rule: '/d', uptime: null, status: 'no_data', avgResponseMs: null }),
        ],
        { days: 90 },
      ),
      OPTIONS,
    )
    expect(card(page, 0)).toContain('<strong>99.95%</strong> in the last 90 days')
    expect(card(page, 1)).toContain('<strong>100.00%</strong> in the last 90 days')
    expect(card(page, 2)).toContain('<strong>60.00%</strong> in the last 90 days')
    expect(card(page, 3)).toContain('No data in the last 90 days')
  })

  it('never rounds an imperfect uptime up to 100.00%', () => {
    expect(formatUptime(0.99999)).toBe('99.99%')
    expect(formatUptime(1)).toBe('100.00%')
    expect(formatUptime(0)).toBe('0.00%')
    expect(formatUptime(0.9995)).toBe('99.95%')
    expect(formatUptime(1 / 3)).toBe('33.33%')
  })

  it('formats days as short dates', () => {
    expect(formatDay('2026-12-04')).toBe('Dec 4, 2026')
    expect(formatDay('not a date')).toBe('not a date')
  })

  it('shows the rule, a non-empty doc and the mean response time', () => {
    const page = renderPage(
      makeReport([
        makeRoute({ rule: '/orders', doc: 'Lists orders.', avgResponseMs: 12.4 }),
        makeRoute({ rule: '/slow', doc: '  ', avgResponseMs: 1234.5 }),
        makeRoute({ rule: '/none', avgResponseMs: null }),
      ]),
      OPTIONS,
    )
    expect(card(page, 0)).toContain('data-rule="/orders"')
    expect(card(page, 0)).toContain('<code class="route-rule">/orders</code>')
    expect(card(page, 0)).toContain('<p class="route-doc">Lists orders.</p>')
    expect(card(page, 0)).toContain('avg 12 ms')
    expect(card(page, 1)).not.toContain('route-doc')
    expect(card(page, 1)).toContain('avg 1,235 ms')
    expect(card(page, 2)).not.toContain('avg ')
  })

  it('uses semantic markup: main, h1, one section with an h2 per route, a list of days', () => {
    const page = renderPage(makeReport([makeRoute(), makeRoute({ rule: '/' })]), OPTIONS)
    expect(count(page, /<main\b/g)).toBe(1)
    expect(count(page, /<h1>/g)).toBe(1)
    expect(count(page, /<section class="route /g)).toBe(2)
    expect(count(page, /<h2 /g)).toBe(2)
    expect(count(page, /<ul class="days/g)).toBe(2)
  })

  it('shows a friendly message when no route is monitored', () => {
    const page = renderPage(makeReport([]), OPTIONS)
    expect(page).toContain('No routes are monitored yet.')
    expect(page).not.toContain('<section')
    expect(renderPage(makeReport([makeRoute()]), OPTIONS)).not.toContain('No routes are monitored yet.')
  })

  it('shows the storage note as a warning banner only when given', () => {
    const note = 'Counts are kept in /tmp/status.db & may be lost.'
    const page = renderPage(makeReport([]), { ...OPTIONS, storageNote: note })
    expect(page).toContain('class="notice"')
    expect(page).toContain('Counts are kept in /tmp/status.db &amp; may be lost.')
    expect(renderPage(makeReport([]), { ...OPTIONS, storageNote: null })).not.toContain('class="notice"')
    expect(renderPage(makeReport([]), OPTIONS)).not.toContain('class="notice"')
  })

  it('shows the unmatched count, the update time and the credits in the footer', () => {
    const page = renderPage(makeReport([], { unmatched: 6 }), OPTIONS)
    const footer = page.slice(page.indexOf('<footer'))
    expect(footer).toContain('6 requests matched no route')
    expect(renderPage(makeReport([], { unmatched: 1 }), OPTIONS)).toContain('1 request matched no route')
    expect(renderPage(makeReport([], { unmatched: 0 }), OPTIONS)).not.toContain('matched no route')
    expect(page).toContain('Updated <time datetime="2026-12-04T15:20:00.000Z">Dec 4, 2026, 15:20 UTC</time>')
    expect(footer).toContain('Powered by <a')
    expect(footer).toContain('server-status</a>')
    expect(footer).toContain("Look forked from <a")
    expect(footer).toContain("Statsig's open-source status page</a>")
  })

  it('shows the update time in the report time zone', () => {
    const page = renderPage(makeReport([], { timeZone: 'Asia/Tokyo' }), OPTIONS)
    expect(page).toContain('Dec 5, 2026, 00:20 GMT+9')
  })
})

describe('stylesheet', () => {
  it('shows tooltips on hover and on keyboard focus, drawn from the square\'s label', () => {
    expect(STATUS_CSS).toContain('.day:hover::after, .day:focus::after { content: attr(aria-label); }')
    expect(STATUS_CSS).toContain('.day:hover::before, .day:focus::before { content: ""; }')
    expect(STATUS_CSS).toMatch(/\.day::after \{[^}]*white-space: pre-line;/)
    // no tooltip box is made for a square that is neither hovered nor focused
    expect(STATUS_CSS).not.toMatch(/\.day::(after|before) \{[^}]*content:/)
    expect(STATUS_CSS).toContain('.day.left::after')
    expect(STATUS_CSS).toContain('.day.right::after')
  })

  it('styles every status class the page uses', () => {
    for (const status of ['ok', 'partial', 'major', 'none']) expect(STATUS_CSS).toContain(`.day.${status} {`)
    for (const status of ['operational', 'partial_outage', 'major_outage', 'no_data']) {
      expect(STATUS_CSS).toContain(`.badge-${status}`)
    }
  })

  it('has a stable quoted SHA-1 ETag', () => {
    expect(STATUS_CSS_ETAG).toMatch(/^"[0-9a-f]{40}"$/)
    expect(contentEtag(STATUS_CSS)).toBe(STATUS_CSS_ETAG)
    expect(contentEtag('x')).not.toBe(STATUS_CSS_ETAG)
  })
})
