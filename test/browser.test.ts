// The status page in a real browser (Debian's Chromium): cards, squares, tooltips on hover and focus, no script errors.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type ConsoleMessage, type Locator, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import { formatUptime } from '../src/page/render.js'
import { createStore } from '../src/store/index.js'
import type { MinuteCounts, StatusHandle, StatusReport } from '../src/types.js'
import { EXPRESSES, hit, listen, tempSqlite, type Running } from './support.js'

/* The browser globals used inside page functions; the test program is typed without the DOM library. */
declare const window: { __violations: string[] }
declare const document: {
  activeElement: { getAttribute(name: string): string | null } | null
  addEventListener(type: 'securitypolicyviolation', listener: (event: { violatedDirective: string; blockedURI: string }) => void): void
}
declare function getComputedStyle(
  element: unknown,
  pseudo?: string,
): { opacity: string; backgroundColor: string; boxShadow: string; content: string; left: string; width: string; height: string; transform: string }
declare class DOMMatrix {
  constructor(transform: string)
  readonly m41: number
}
declare interface Element {
  getBoundingClientRect(): { left: number; top: number }
  getAttribute(name: string): string | null
}

const express = EXPRESSES[1].express
const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = fileURLToPath(new URL('../docs/screenshot.png', import.meta.url))
const SECRET = 'browser-test-secret-0123'
const DAY_MS = 86_400_000
const DAYS = 30
const EVIL_NAME = '<img src=x onerror=alert(document.domain)>'
const EVIL_DOC = '</script><script>alert(2)</script>'

const DAY_LABEL = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' })

/** `YYYY-MM-DD` (UTC) of `daysAgo` days before now. */
function dayOf(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10)
}

/** `Dec 4, 2026` for `daysAgo` days before now. */
function labelOf(daysAgo: number): string {
  return DAY_LABEL.format(Date.parse(`${dayOf(daysAgo)}T00:00:00Z`))
}

/** Counts at noon (UTC) of a past day. */
function pastDay(rule: string, daysAgo: number, success: number, failure: number): MinuteCounts {
  const day = dayOf(daysAgo)
  return { rule, minute: Math.floor((Date.parse(`${day}T12:00:00Z`)) / 60_000), day, success, failure, ignored: 0, durationMs: (success + failure) * 18 }
}

/** A month of plausible history: a steady index, a flaky search, an export that broke four days ago, a young router. */
function history(): MinuteCounts[] {
  const rows: MinuteCounts[] = []
  for (let ago = 1; ago < DAYS; ago++) {
    rows.push(pastDay('/', ago, 400 + ((ago * 37) % 90), ago === 12 || ago === 20 ? 9 : 0))
    const flakyFailures = ago === 18 ? 700 : ago % 9 === 0 ? 200 : ago % 4 === 0 ? 12 : 0
    rows.push(pastDay('/flaky', ago, 220 + ((ago * 13) % 40), flakyFailures))
    rows.push(pastDay('/broken', ago, ago <= 4 ? 3 : 90, ago <= 4 ? 60 : ago === 17 ? 4 : 0))
    if (ago <= 14) rows.push(pastDay('/hello/world', ago, 120 + ago, 0))
  }
  return rows
}

interface Watched {
  page: Page
  errors: string[]
  dialogs: string[]
  requests: string[]
  badResponses: string[]
  violations(): Promise<string[]>
}

/** A page that records console errors, page errors, dialogs, requests and CSP violations. */
async function watchedPage(browser: Browser, width = 1000): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width, height: 800 }, deviceScaleFactor: 1 })
  await context.addInitScript(() => {
    const seen: string[] = []
    window.__violations = seen
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`))
  })
  const page = await context.newPage()
  const watched: Watched = {
    page,
    errors: [],
    dialogs: [],
    requests: [],
    badResponses: [],
    violations: () => page.evaluate(() => window.__violations.slice()),
  }
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') watched.errors.push(`${message.type()}: ${message.text()}`)
  })
  page.on('pageerror', (error) => watched.errors.push(`pageerror: ${error.message}`))
  page.on('dialog', (dialog) => {
    watched.dialogs.push(`${dialog.type()}: ${dialog.message()}`)
    void dialog.dismiss()
  })
  page.on('request', (request) => watched.requests.push(request.url()))
  page.on('response', (response) => {
    if (response.status() >= 400) watched.badResponses.push(`${response.status()} ${response.url()}`)
  })
  return watched
}

/** A square's tooltip, drawn by its `::after`: the text shown (null when none is drawn) and its box in the viewport. */
interface Tooltip {
  text: string | null
  label: string | null
  opacity: string
  x: number
  width: number
  height: number
}

/** The text of a computed CSS string such as `"Dec 4, 2026\a Fully Operational"`. */
function cssString(value: string): string {
  return value.slice(1, -1).replace(/\\([0-9a-f]{1,6}) ?|\\(.)/gi, (_, hex: string | undefined, char: string | undefined) =>
    hex === undefined ? (char ?? '') : String.fromCodePoint(parseInt(hex, 16)),
  )
}

async function tooltipOf(square: Locator): Promise<Tooltip> {
  const shown = await square.evaluate((el: Element) => {
    const style = getComputedStyle(el, '::after')
    const box = el.getBoundingClientRect()
    return {
      content: style.content,
      label: el.getAttribute('aria-label'),
      opacity: style.opacity,
      // left is relative to the square, and the transform shifts a centred tooltip by half its width
      x: box.left + parseFloat(style.left) + new DOMMatrix(style.transform).m41,
      width: parseFloat(style.width),
      height: parseFloat(style.height),
    }
  })
  const { content, ...rest } = shown
  return { ...rest, text: content === 'none' || content === 'normal' ? null : cssString(content) }
}

/** Whether a square's tooltip is drawn, fully faded in. */
async function tooltipShown(square: Locator): Promise<boolean> {
  const tip = await tooltipOf(square)
  return tip.text !== null && tip.opacity === '1'
}

/** Visible text with runs of white space folded. */
async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim()
}

describe('status page in Chromium', () => {
  const db = tempSqlite()
  let browser: Browser
  let running: Running
  let status: StatusHandle
  let report: StatusReport

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    })

    const store = await createStore(db.url, { tablePrefix: 'server_status_' })
    await store.init()
    await store.write(history())
    await store.close()

    const app = express()
    status = serverStatus(app, {
      database: db.url,
      logger: false,
      title: 'Example API',
      names: {
        '/': { name: 'Home', doc: 'The landing page.' },
        '/flaky': 'Search',
        '/broken': { name: 'Exports', doc: 'CSV exports of orders.' },
        '/quiet': 'Admin',
        '/hello/world': 'Hello World',
      },
    })
    app.get('/', (_req: any, res: any) => res.send('Welcome to API!'))
    let flip = 0
    app.get('/flaky', (_req: any, res: any) => res.sendStatus(flip++ % 2 === 0 ? 200 : 500))
    app.get('/broken', (_req: any, res: any) => res.sendStatus(503))
    app.get('/quiet', (_req: any, res: any) => res.send('nobody comes here'))
    const router = express.Router()
    router.get('/world', (_req: any, res: any) => res.send('Hello World!'))
    app.use('/hello', router)
    running = await listen(app)

    await hit(`${running.url}/`, 12)
    await hit(`${running.url}/flaky`, 8, undefined, 1)
    await hit(`${running.url}/broken`, 4)
    await hit(`${running.url}/hello/world`, 5)
    report = (await (await fetch(`${running.url}/status/api/routes`)).json()) as StatusReport
  })

  afterAll(async () => {
    await browser?.close()
    await running?.close()
    await status?.close()
    db.cleanup()
  })

  it('has the routes and counts the browser checks below rely on', () => {
    expect(report.routes.map((r) => [r.rule, r.name, r.status])).toEqual([
      ['/', 'Home', 'operational'],
      ['/flaky', 'Search', 'partial_outage'],
      ['/broken', 'Exports', 'major_outage'],
      ['/quiet', 'Admin', 'no_data'],
      ['/hello/world', 'Hello World', 'operational'],
    ])
    const flaky = report.routes[1]!.days.at(-1)!
    expect(flaky).toMatchObject({ date: dayOf(0), success: 4, failure: 4, status: 'partial_outage' })
  })

  it('shows a card per route with one coloured square per day, badges and uptimes, without errors', async () => {
    const { page, errors, dialogs, requests, badResponses, violations } = await watchedPage(browser)
    const response = await page.goto(`${running.url}/status`, { waitUntil: 'load' })
    expect(response?.status()).toBe(200)

    expect(await page.title()).toBe('Example API')
    expect(await textOf(page, 'h1')).toBe('Example API')
    expect(await textOf(page, '.overall')).toBe('Major System Outage')

    const cards = page.locator('section.route')
    expect(await cards.count()).toBe(5)
    for (let i = 0; i < 5; i++) expect(await cards.nth(i).locator('li.day').count()).toBe(DAYS)

    expect(await page.locator('.route-name').allInnerTexts()).toEqual(['HOME', 'SEARCH', 'EXPORTS', 'ADMIN', 'HELLO WORLD'])
    expect(await page.locator('.route-name').allTextContents()).toEqual(['Home', 'Search', 'Exports', 'Admin', 'Hello World'])
    expect(await page.locator('.badge').allInnerTexts()).toEqual(['Fully Operational', 'Partial Outage', 'Major Outage', 'No Data', 'Fully Operational'])
    expect(await page.locator('.route-rule').allInnerTexts()).toEqual(['/', '/flaky', '/broken', '/quiet', '/hello/world'])
    for (let i = 0; i < 5; i++) {
      const uptime = report.routes[i]!.uptime
      const expected = uptime === null ? 'No data in the last 30 days' : `${formatUptime(uptime)} in the last 30 days`
      expect((await cards.nth(i).locator('.uptime').innerText()).replace(/\s+/g, ' ')).toBe(expected)
    }

    // each square's colour follows its day in the JSON
    const colours: Record<string, string> = {
      operational: 'rgb(76, 175, 80)',
      partial_outage: 'rgb(245, 166, 35)',
      major_outage: 'rgb(229, 72, 77)',
      no_data: 'rgb(240, 240, 240)',
    }
    for (let i = 0; i < 5; i++) {
      const shown = await cards.nth(i).locator('li.day').evaluateAll((squares) =>
        squares.map((square) => [square.getAttribute('data-date'), getComputedStyle(square).backgroundColor]),
      )
      expect(shown).toEqual(report.routes[i]!.days.map((day) => [day.date, colours[day.status]]))
    }
    const home = report.routes[0]!.days
    expect(home[DAYS - 1 - 12]).toMatchObject({ date: dayOf(12), status: 'partial_outage' })
    expect(home[0]).toMatchObject({ date: dayOf(29), status: 'operational' })
    expect(report.routes[2]!.days.slice(-5).map((d) => d.status)).toEqual(['major_outage', 'major_outage', 'major_outage', 'major_outage', 'major_outage'])
    expect(report.routes[4]!.days.slice(0, 15).every((d) => d.status === 'no_data')).toBe(true)
    expect(report.routes[3]!.days.every((d) => d.status === 'no_data')).toBe(true)

    const origin = new URL(running.url).origin
    expect(requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'))).toEqual([])
    expect(requests).toContain(`${origin}/status`)
    expect(requests.some((url) => url.startsWith(`${origin}/status/assets/status.css`))).toBe(true)
    expect(badResponses).toEqual([])
    expect(await violations()).toEqual([])
    expect(errors).toEqual([])
    expect(dialogs).toEqual([])
    await page.context().close()
  })

  it('shows a square\'s tooltip on hover: date, status, successes and failures', async () => {
    const { page, errors } = await watchedPage(browser)
    await page.goto(`${running.url}/status`)
    const today = page.locator('section.route').nth(1).locator('li.day').last()
    expect((await tooltipOf(today)).text).toBeNull()
    await today.hover()
    await expect.poll(() => tooltipShown(today)).toBe(true)
    const tip = await tooltipOf(today)
    expect(tip.text).toBe(`${labelOf(0)}\nPartial Outage (50.00%)\n4 successful, 4 failed`)
    // the tooltip is the accessible label, shown
    expect(tip.text).toBe(tip.label)
    expect(tip.x).toBeGreaterThanOrEqual(0)
    expect(tip.x + tip.width).toBeLessThanOrEqual(1000)
    expect(tip.width).toBeGreaterThan(100)
    expect(tip.height).toBeGreaterThan(40)

    // a past day of another card; the first tooltip goes away
    const past = page.locator('section.route').nth(2).locator(`li.day[data-date="${dayOf(17)}"]`)
    await past.hover()
    await expect.poll(() => tooltipShown(past)).toBe(true)
    expect((await tooltipOf(today)).text).toBeNull()
    const day17 = history().find((row) => row.rule === '/broken' && row.day === dayOf(17))!
    expect((await tooltipOf(past)).text).toBe(
      `${labelOf(17)}\nPartial Outage (${formatUptime(day17.success / (day17.success + day17.failure))})\n${day17.success} successful, ${day17.failure} failed`,
    )
    expect(errors).toEqual([])
    await page.context().close()
  })

  for (const width of [1000, 375]) {
    it(`keeps every tooltip inside a ${width.toString()} px wide screen`, async () => {
      const { page, errors } = await watchedPage(browser, width)
      // without the fade-in, each tooltip is whole as soon as it is drawn
      await page.emulateMedia({ reducedMotion: 'reduce' })
      await page.goto(`${running.url}/status`)
      const squares = page.locator('section.route').nth(1).locator('li.day')
      for (let i = 0; i < DAYS; i++) {
        const square = squares.nth(i)
        await square.hover()
        const tip = await tooltipOf(square)
        expect(tip.text).toBe(tip.label)
        expect(tip.opacity).toBe('1')
        expect(tip.x, `tooltip ${i.toString()}`).toBeGreaterThanOrEqual(0)
        expect(tip.x + tip.width, `tooltip ${i.toString()}`).toBeLessThanOrEqual(width)
      }
      expect(errors).toEqual([])
      await page.context().close()
    })
  }

  it('shows a square\'s tooltip on keyboard focus, moving with Tab', async () => {
    const { page, errors } = await watchedPage(browser)
    await page.goto(`${running.url}/status`)
    const squares = page.locator('section.route').first().locator('li.day')
    const first = squares.first()
    expect((await tooltipOf(first)).text).toBeNull()
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-date'))).toBe(dayOf(29))
    await expect.poll(() => tooltipShown(first)).toBe(true)
    const oldest = history().find((row) => row.rule === '/' && row.day === dayOf(29))!
    expect((await tooltipOf(first)).text).toBe(`${labelOf(29)}\nFully Operational\n${oldest.success} successful, 0 failed`)
    expect(await first.evaluate((el) => getComputedStyle(el).boxShadow)).not.toBe('none')

    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    const third = squares.nth(2)
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-date'))).toBe(dayOf(27))
    await expect.poll(() => tooltipShown(third)).toBe(true)
    expect((await tooltipOf(first)).text).toBeNull()
    const row = history().find((r) => r.rule === '/' && r.day === dayOf(27))!
    const label = `${labelOf(27)}\nFully Operational\n${row.success} successful, 0 failed`
    expect((await tooltipOf(third)).text).toBe(label)
    expect(await third.getAttribute('aria-label')).toBe(label)

    await page.keyboard.press('Shift+Tab')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-date'))).toBe(dayOf(28))
    await expect.poll(() => tooltipShown(squares.nth(1))).toBe(true)
    expect((await tooltipOf(third)).text).toBeNull()
    expect(errors).toEqual([])
    await page.context().close()
  })

  it('shows a route renamed to an <img> tag as text, and no script runs', async () => {
    const evilDb = tempSqlite()
    const app = express()
    const evil = serverStatus(app, { database: evilDb.url, logger: false, api: { secret: SECRET } })
    app.get('/profile', (_req: any, res: any) => res.send('me'))
    const server = await listen(app)
    const { page, errors, dialogs, violations } = await watchedPage(browser)
    try {
      await hit(`${server.url}/profile`, 2)
      const reply = await fetch(`${server.url}/server-status/configure`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rule: '/profile', name: EVIL_NAME, doc: EVIL_DOC }),
      })
      expect(reply.status).toBe(200)
      await reply.arrayBuffer()

      await page.goto(`${server.url}/status`)
      expect(await page.locator('.route-name').allTextContents()).toEqual([EVIL_NAME])
      expect(await page.locator('.route-doc').allTextContents()).toEqual([EVIL_DOC])
      expect(await page.locator('img').count()).toBe(0)
      expect(await page.locator('script').count()).toBe(0)
      await page.locator('li.day').last().hover()
      await page.waitForTimeout(300)
      expect(dialogs).toEqual([])
      expect(errors).toEqual([])
      expect(await violations()).toEqual([])
    } finally {
      await page.context().close()
      await server.close()
      await evil.close()
      evilDb.cleanup()
    }
  })

  it('saves a full-page screenshot at 1000 px wide for the README', async () => {
    const { page, errors } = await watchedPage(browser, 1000)
    await page.goto(`${running.url}/status`)
    await page.locator('section.route').nth(1).locator(`li.day[data-date="${dayOf(9)}"]`).hover()
    await page.waitForTimeout(250)
    mkdirSync(dirname(SCREENSHOT), { recursive: true })
    // a full-page capture resizes the viewport, which draws the tooltip anew: skip its fade-in
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true, animations: 'disabled' })
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
    expect(png.readUInt32BE(16)).toBe(1000)
    expect(png.readUInt32BE(20)).toBeGreaterThan(800)
    expect(errors).toEqual([])
    await page.context().close()
  })
})
