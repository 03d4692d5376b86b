// Names, docs and rules are text on the page, never markup; the page is sent with strict security headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import type { StatusHandle, StatusReport } from '../src/types.js'
import { directives, EXPRESSES, hit, listen, tempSqlite, type Running } from './support.js'

const SECRET = 'escaping-test-secret-0123'
const NAME = '<img src=x onerror=alert(1)>'
const DOC = '</script><script>alert(1)</script>'
const QUOTED_RULE = `/o'clock/"now"`
const MARKUP_RULE = '/a&b/<i>'

/**
 * Every tag's name and attribute names. Fails when a tag holds anything but well-formed
 * `name` or `name="value"` attributes, which an escaped value can never break out of.
 */
function tags(page: string): Array<{ tag: string; attributes: string[] }> {
  const found: Array<{ tag: string; attributes: string[] }> = []
  for (const [, tag = '', attrs = ''] of page.matchAll(/<([a-z][a-z0-9]*)((?:\s[^>]*)?)>/gi)) {
    const attributes: string[] = []
    const rest = attrs.replace(/\s([a-z][a-z0-9:-]*)(?:="([^"<>`]*)")?/gi, (_, name: string) => {
      attributes.push(name.toLowerCase())
      return ''
    })
    expect(rest.trim()).toBe('')
    found.push({ tag: tag.toLowerCase(), attributes })
  }
  return found
}

for (const { name, express } of EXPRESSES) {
  describe(`escaping on ${name}`, () => {
    const db = tempSqlite()
    let running: Running
    let status: StatusHandle
    let html: string
    let pageHeaders: Headers
    let report: StatusReport

    beforeAll(async () => {
      const app = express()
      status = serverStatus(app, { database: db.url, logger: false, api: { secret: SECRET } })
      app.get('/', (_req: any, res: any) => res.send('ok'))
      app.get("/o'clock", (_req: any, res: any) => res.send('tea'))
      app.get(QUOTED_RULE, (_req: any, res: any) => res.send('quoted'))
      app.get(MARKUP_RULE, (_req: any, res: any) => res.send('markup'))
      running = await listen(app)
      await hit(`${running.url}/`, 2)
      await hit(`${running.url}/o'clock`, 2)
      const reply = await fetch(`${running.url}/server-status/configure`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rule: '/', name: NAME, doc: DOC }),
      })
      expect(reply.status).toBe(200)
      expect(await reply.json()).toEqual({ message: 'Route modified', route: { rule: '/', name: NAME, doc: DOC } })
      const page = await fetch(`${running.url}/status`)
      expect(page.status).toBe(200)
      pageHeaders = page.headers
      html = await page.text()
      report = (await (await fetch(`${running.url}/status/api/routes`)).json()) as StatusReport
    })

    afterAll(async () => {
      await running.close()
      await status.close()
      db.cleanup()
    })

    it('shows a name set to an <img> tag as text on the page', () => {
      expect(html).toContain('<h2 class="route-name" id="route-0">&lt;img src=x onerror=alert(1)&gt;</h2>')
      expect(html).toContain('aria-label="Daily status of &lt;img src=x onerror=alert(1)&gt;, the last 30 days"')
      expect(html).not.toContain('<img')
      expect(tags(html).filter(({ tag }) => tag === 'img')).toEqual([])
    })

    it('shows a doc that closes a script as text on the page', () => {
      expect(html).toContain('<p class="route-doc">&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>')
      expect(html).not.toMatch(/<\/?script/i)
    })

    it('gives the name and doc back exactly as set in the JSON', () => {
      const route = report.routes.find((r) => r.rule === '/')
      expect(route).toMatchObject({ rule: '/', name: NAME, doc: DOC, success: 2 })
    })

    it('escapes quotes in a rule, in attributes and in text', () => {
      expect(html).toContain('data-rule="/o&#39;clock"')
      expect(html).toContain('<code class="route-rule">/o&#39;clock</code>')
      expect(html).toContain('data-rule="/o&#39;clock/&quot;now&quot;"')
      expect(html).toContain('<code class="route-rule">/o&#39;clock/&quot;now&quot;</code>')
      expect(html).not.toContain(`"/o'clock`)
      expect(report.routes.map((r) => r.rule)).toEqual(['/', "/o'clock", QUOTED_RULE, MARKUP_RULE])
      expect(report.routes.find((r) => r.rule === "/o'clock")).toMatchObject({ name: "/o'clock", success: 2 })
    })

    it('escapes & and < in a rule', () => {
      expect(html).toContain('data-rule="/a&amp;b/&lt;i&gt;"')
      expect(html).toContain('<code class="route-rule">/a&amp;b/&lt;i&gt;</code>')
      expect(html).toContain('<h2 class="route-name" id="route-3">/a&amp;b/&lt;i&gt;</h2>')
      expect(html).not.toContain('<i>')
    })

    it('has no inline script and no event handler attribute', () => {
      for (const match of html.matchAll(/<script\b[^>]*>/gi)) expect(match[0]).toMatch(/\ssrc="\/status\//)
      const all = tags(html)
      expect(all.length).toBeGreaterThan(100)
      // a script may only be a file of the app, loaded by src
      expect(all.filter(({ tag, attributes }) => tag === 'script' && !attributes.includes('src'))).toEqual([])
      expect(all.filter(({ tag }) => tag === 'style' || tag === 'iframe' || tag === 'object' || tag === 'embed')).toEqual([])
      expect(all.flatMap(({ attributes }) => attributes.filter((name) => name.startsWith('on') || name === 'style'))).toEqual([])
      expect(html).not.toMatch(/(href|src|action)="\s*javascript:/i)
    })

    it('sends a Content-Security-Policy that forbids inline script', () => {
      const policy = pageHeaders.get('content-security-policy')
      expect(policy).toBeTruthy()
      const csp = directives(policy!)
      expect(csp.get('default-src')).toEqual(["'none'"])
      const script = csp.get('script-src') ?? csp.get('default-src')!
      expect(script).not.toContain("'unsafe-inline'")
      expect(script).not.toContain("'unsafe-eval'")
      expect(script).not.toContain('*')
      expect(script).not.toContain('data:')
      expect(csp.get('style-src') ?? []).not.toContain("'unsafe-inline'")
      expect(csp.get('base-uri')).toEqual(["'none'"])
      expect(csp.get('frame-ancestors')).toBeDefined()
    })

    it('sends nosniff, a Referrer-Policy and HTML as the content type', () => {
      expect(pageHeaders.get('x-content-type-options')).toBe('nosniff')
      expect(pageHeaders.get('referrer-policy')).toBe('no-referrer')
      expect(pageHeaders.get('content-type')).toBe('text/html; charset=utf-8')
    })

    it('sends the JSON and the stylesheet with nosniff and their own content types', async () => {
      const api = await fetch(`${running.url}/status/api/routes`)
      expect(api.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(api.headers.get('x-content-type-options')).toBe('nosniff')
      await api.arrayBuffer()
      const href = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1]
      expect(href).toMatch(/^\/status\/assets\/status\.css/)
      const css = await fetch(`${running.url}${href!.replace(/&amp;/g, '&')}`)
      expect(css.status).toBe(200)
      expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
      expect(css.headers.get('x-content-type-options')).toBe('nosniff')
      await css.arrayBuffer()
    })
  })
}
