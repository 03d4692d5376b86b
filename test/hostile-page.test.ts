// The page under attack: hostile names and docs in Chromium, the page's security headers, and the `protect` option.
import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import type { ServerStatusOptions, StatusHandle, StatusReport } from '../src/types.js'
import { directives, EXPRESSES, listen, memoryLogger, tempSqlite, type Running } from './support.js'

/* Browser globals used inside page functions; the test program is typed without the DOM library. */
declare const window: { __pwned?: unknown; __violations: string[]; top: { __pwned?: unknown } | null }
declare const document: {
  querySelectorAll(selector: string): ArrayLike<{ tagName: string; getAttributeNames(): string[] }>
  addEventListener(type: 'securitypolicyviolation', listener: (event: { violatedDirective: string; blockedURI: string }) => void): void
  body: unknown
}
declare function getComputedStyle(element: unknown): { display: string; visibility: string }

const express = EXPRESSES[1].express
const CHROMIUM = '/usr/bin/chromium'
const SECRET = 'hostile-page-secret-7a2b'

/** Names and docs an attacker with the API secret, or a careless operator, could set. */
const PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  '</script><script>alert(1)</script>',
  'javascript:alert(1)',
  '</style><style>body{display:none}</style>',
  'x" style="background:url(javascript:alert(1))',
  '<script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 2">',
  "'><iframe src=\"javascript:top.__pwned = 3\"></iframe>",
  '<a href="javascript:window.__pwned = 4" id="click-me">click</a>',
  '<svg><animate onbegin="window.__pwned = 5" attributeName="x" dur="1s"></svg>',
  '<details open ontoggle="window.__pwned = 6">',
  '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned = 7">',
  '<base href="http://127.0.0.1:1/">',
  '<link rel="stylesheet" href="http://127.0.0.1:1/x.css">',
  '<style>@import url(http://127.0.0.1:1/y.css);</style>',
  '`${window.__pwned = 8}` {{constructor.constructor("window.__pwned = 9")()}}',
  '&lt;b&gt;not bold&lt;/b&gt; &amp;amp;',
  '<!-- <p class="route-doc">',
  "'; alert(1); '",
]

/** Rules of the test app, one per payload. */
const RULES = PAYLOADS.map((_, i) => `/r${i}`)
/** The name of `/r<i>` is payload i, its doc the next payload, so each is shown in both places. */
const docOf = (i: number) => PAYLOADS[(i + 1) % PAYLOADS.length]!

async function configure(url: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}/server-status/configure`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  await res.arrayBuffer()
  return res.status
}

describe('the status page with hostile names and docs, in Chromium', () => {
  const db = tempSqlite()
  const logger = memoryLogger()
  let browser: Browser | null = null
  let context: BrowserContext | null = null
  let running: Running | null = null
  let status: StatusHandle | null = null

  beforeAll(async () => {
    const app = express()
    status = serverStatus(app, { database: db.url, logger, api: { secret: SECRET }, title: '<script>window.__pwned = 10</script>' })
    for (const rule of RULES) {
      app.get(rule, (_req, res) => {
        res.send('ok')
      })
    }
    running = await listen(app)
    for (const rule of RULES) expect((await fetch(`${running.url}${rule}`)).status).toBe(200)
    for (const [i, rule] of RULES.entries()) {
      expect(await configure(running.url, { rule, name: PAYLOADS[i], doc: docOf(i) })).toBe(200)
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    })
  })

  afterEach(async () => {
    await context?.close()
    context = null
  })

  afterAll(async () => {
    await browser?.close()
    await running?.close()
    await status?.close()
    db.cleanup()
  })

  it('serves every payload back unchanged in the JSON', async () => {
    const res = await fetch(`${running!.url}/status/api/routes`)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    const report = (await res.json()) as StatusReport
    expect(report.routes.map((r) => [r.rule, r.name, r.doc])).toEqual(RULES.map((rule, i) => [rule, PAYLOADS[i], docOf(i)]))
  })

  it('sends the page with a Content-Security-Policy that forbids inline script, nosniff and a Referrer-Policy', async () => {
    const res = await fetch(`${running!.url}/status`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    const policy = directives(res.headers.get('content-security-policy') ?? '')
    expect(policy.get('default-src')).toEqual(["'none'"])
    const scripts = policy.get('script-src') ?? policy.get('default-src')!
    // the page runs no script at all; the stylesheet is its only subresource
    expect(scripts).toHaveLength(1)
    expect(["'none'", "'self'"]).toContain(scripts[0])
    for (const sources of policy.values()) {
      expect(sources).not.toContain("'unsafe-inline'")
      expect(sources).not.toContain("'unsafe-eval'")
      expect(sources).not.toContain('*')
    }
    expect(policy.get('base-uri')).toEqual(["'none'"])
    await res.arrayBuffer()
  })

  it('shows every payload as text: no dialog, no script run, no element or request injected', async () => {
    context = await browser!.newContext()
    await context.addInitScript(() => {
      window.__violations = []
      document.addEventListener('securitypolicyviolation', (event) => window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`))
    })
    const page = await context.newPage()
    const dialogs: string[] = []
    const errors: string[] = []
    const requests: string[] = []
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`)
      void dialog.dismiss()
    })
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('request', (request) => requests.push(request.url()))

    const response = await page.goto(`${running!.url}/status`, { waitUntil: 'load' })
    expect(response?.status()).toBe(200)
    // handlers such as onerror and onbegin fire after load; give them time to
    await page.waitForTimeout(1_500)

    expect(dialogs).toEqual([])
    expect(errors).toEqual([])
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined()
    expect(await page.evaluate(() => window.top?.__pwned)).toBeUndefined()
    expect(await page.evaluate(() => window.__violations)).toEqual([])
    expect([...new Set(requests)]).toEqual([`${running!.url}/status`, `${running!.url}/status/assets/status.css`])

    expect(await page.title()).toBe('<script>window.__pwned = 10</script>')
    expect(await page.locator('h1').textContent()).toBe('<script>window.__pwned = 10</script>')
    for (const [i, rule] of RULES.entries()) {
      const card = page.locator(`section[data-rule="${rule}"]`)
      expect(await card.locator('h2.route-name').textContent(), rule).toBe(PAYLOADS[i])
      expect(await card.locator('p.route-doc').textContent(), rule).toBe(docOf(i))
      await expect.poll(() => card.locator('h2.route-name').isVisible()).toBe(true)
    }

    // nothing but the page's own markup: no injected element, handler, style or link
    const injected = await page.evaluate(() => {
      const found: string[] = []
      for (const el of Array.from(document.querySelectorAll('script, iframe, svg, img, style, base, object, embed, details, a[href^="javascript" i], body *[style]'))) {
        found.push(el.tagName)
      }
      for (const el of Array.from(document.querySelectorAll('*'))) {
        for (const name of el.getAttributeNames()) if (name.toLowerCase().startsWith('on')) found.push(`${el.tagName}[${name}]`)
      }
      return found
    })
    expect(injected).toEqual([])
    expect(await page.locator('link[rel="stylesheet"]').count()).toBe(1)
    expect(await page.locator('meta[http-equiv]').count()).toBe(1)
    expect(await page.evaluate(() => getComputedStyle(document.body).display)).not.toBe('none')
    expect(logger.lines).toEqual([])
  })
})

describe('page protection', () => {
  const db = tempSqlite()
  let running: Running | null = null
  let status: StatusHandle | null = null

  afterEach(async () => {
    await running?.close()
    await status?.close()
    running = null
    status = null
  })

  afterAll(() => db.cleanup())

  async function start(protect: ServerStatusOptions['protect'], logger = memoryLogger()): Promise<string> {
    const app = express()
    status = serverStatus(app, { database: db.url, logger, protect, api: { secret: SECRET }, tablePrefix: `p${Math.random().toString(36).slice(2, 8)}_` })
    app.get('/', (_req, res) => {
      res.send('home')
    })
    app.get('/items/:id', (req, res) => {
      res.status(req.params.id === 'missing' ? 404 : 200).send('item')
    })
    running = await listen(app)
    return running.url
  }

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
  const USER = 'ops'
  const PASSWORD = 'pä:ss wörd'

  it('asks for Basic credentials on the page and the JSON, and lets the right ones in', async () => {
    const url = await start({ username: USER, password: PASSWORD })
    const refused: Record<string, string>[] = [
      {},
      { authorization: basic(USER, 'wrong') },
      { authorization: basic('admin', PASSWORD) },
      { authorization: basic(USER, PASSWORD.slice(0, -1)) },
      { authorization: basic(USER, `${PASSWORD}x`) },
      { authorization: basic('', '') },
      { authorization: 'Basic' },
      { authorization: 'Basic !!!' },
      { authorization: `Bearer ${PASSWORD}` },
      { authorization: `Basic ${Buffer.from(USER).toString('base64')}` },
    ]
    for (const path of ['/status', '/status/', '/status/api/routes']) {
      for (const method of ['GET', 'HEAD']) {
        for (const headers of refused) {
          const res = await fetch(`${url}${path}`, { method, headers })
          const text = await res.text()
          expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401)
          expect(res.headers.get('www-authenticate')).toBe('Basic realm="status", charset="UTF-8"')
          expect(res.headers.get('cache-control')).toBe('no-store')
          expect(text).not.toContain('/items/:id')
          expect(text).not.toContain(PASSWORD)
        }
      }
    }
    const page = await fetch(`${url}/status`, { headers: { authorization: basic(USER, PASSWORD) } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('/items/:id')
    const lower = await fetch(`${url}/status/api/routes`, { headers: { authorization: basic(USER, PASSWORD).replace('Basic', 'basic') } })
    expect(lower.status).toBe(200)
    await lower.arrayBuffer()
  })

  it('leaves the app’s own routes open under Basic protection, and still counts them', async () => {
    const url = await start({ username: USER, password: PASSWORD })
    expect((await fetch(`${url}/`)).status).toBe(200)
    expect((await fetch(`${url}/items/1`)).status).toBe(200)
    expect((await fetch(`${url}/items/missing`)).status).toBe(404)
    expect((await fetch(`${url}/nowhere`)).status).toBe(404)
    // refused looks at the page are not traffic of any route
    expect((await fetch(`${url}/status`)).status).toBe(401)
    const res = await fetch(`${url}/status/api/routes`, { headers: { authorization: basic(USER, PASSWORD) } })
    expect(res.status).toBe(200)
    const report = (await res.json()) as StatusReport
    expect(report.routes.map((r) => [r.rule, r.success, r.failure, r.ignored])).toEqual([
      ['/', 1, 0, 0],
      ['/items/:id', 1, 1, 0],
    ])
    expect(report.unmatched).toBe(1)
  })

  it('does not let other origins read the JSON of a protected page', async () => {
    const url = await start((req: { headers: Record<string, string> }) => req.headers['x-ops'] === '1')
    const res = await fetch(`${url}/status/api/routes`, { headers: { 'x-ops': '1', origin: 'https://elsewhere.example' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('answers 403 where the protect function says no and 200 where it says yes', async () => {
    const url = await start((req: { headers: Record<string, string | undefined> }) => req.headers['x-ops'] === '1')
    for (const path of ['/status', '/status/api/routes']) {
      for (const headers of [{}, { 'x-ops': '0' }, { 'x-ops': 'true' }, { 'x-ops': '11' }, { authorization: `Bearer ${SECRET}` }] as Record<string, string>[]) {
        const res = await fetch(`${url}${path}`, { headers })
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(403)
        expect(await res.json()).toEqual({ error: 'forbidden' })
      }
      const res = await fetch(`${url}${path}`, { headers: { 'x-ops': '1' } })
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('/items/:id')
    }
  })

  it('leaves the app’s own routes and the configure API open under a protect function, and still counts them', async () => {
    const url = await start((req: { headers: Record<string, string | undefined> }) => req.headers['x-ops'] === '1')
    expect((await fetch(`${url}/`)).status).toBe(200)
    expect((await fetch(`${url}/items/7`)).status).toBe(200)
    expect((await fetch(`${url}/nowhere`)).status).toBe(404)
    expect((await fetch(`${url}/status`)).status).toBe(403)
    expect(await configure(url, { rule: '/', name: 'Home' })).toBe(200)
    const res = await fetch(`${url}/status/api/routes`, { headers: { 'x-ops': '1' } })
    const report = (await res.json()) as StatusReport
    expect(report.routes.map((r) => [r.rule, r.name, r.success, r.failure])).toEqual([
      ['/', 'Home', 1, 0],
      ['/items/:id', '/items/:id', 1, 0],
    ])
    expect(report.unmatched).toBe(1)
  })

  it('refuses with 403, and logs why, when the protect function throws; waits for one that returns a promise', async () => {
    const logger = memoryLogger()
    const url = await start(() => {
      throw new Error('directory down')
    }, logger)
    expect((await fetch(`${url}/status`)).status).toBe(403)
    expect((await fetch(`${url}/status/api/routes`)).status).toBe(403)
    // logged once, however many requests it refuses
    expect(logger.lines).toEqual(['error: server-status: the protect function threw, the page is refused: directory down'])
    expect((await fetch(`${url}/`)).status).toBe(200)
    await running!.close()
    await status!.close()

    const later = await start(async (req: { headers: Record<string, string | undefined> }) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      return req.headers['x-ops'] === '1'
    })
    expect((await fetch(`${later}/status`)).status).toBe(403)
    expect((await fetch(`${later}/status`, { headers: { 'x-ops': '1' } })).status).toBe(200)
  })
})
