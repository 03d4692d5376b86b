// The Express adapter: one middleware that counts every response and serves the page and API.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { StatusCore } from '../core.js'
import { MAX_BODY_BYTES, type BodyResult, type CoreResponse } from '../http.js'
import { resolveOptions } from '../options.js'
import { UNMATCHED } from '../recorder.js'
import type { ServerStatusOptions, StatusHandle } from '../types.js'
import { boundRule, discoverRoutes, instrument, instrumentApp, joinRule, pathText, rootRouter, threw, type ExpressApp, type ExpressRoute } from './routes.js'

export type { ServerStatusOptions, StatusHandle, StatusReport, RouteReport, DayReport, Outcome, Status } from '../types.js'

type Req = IncomingMessage & { route?: ExpressRoute; baseUrl?: string; body?: unknown; _body?: boolean; ip?: string }
type Res = ServerResponse & { req: Req }

/**
 * Adds server-status to an Express 4 or 5 app: counts every response per route template and
 * serves the status page at `urlPrefix` (default `/status`). Call it before defining routes.
 *
 * @example
 * const app = express()
 * const status = serverStatus(app, { database: 'sqlite:///tmp/status.db' })
 * app.get('/', function index(req, res) { res.send('Welcome to API!') })
 * process.on('SIGTERM', () => status.close())
 */
export function serverStatus(app: ExpressApp, options?: ServerStatusOptions): StatusHandle {
  if (app === null || (typeof app !== 'function' && typeof app !== 'object') || typeof app.use !== 'function') {
    throw new TypeError('server-status: serverStatus(app, options) needs an Express app as its first argument')
  }
  const resolved = resolveOptions(options)
  const router = rootRouter(app)
  if (router) instrument(router)
  instrumentApp(app)

  const rules = new WeakMap<object, string>()
  const unknownRoutes = new WeakSet<object>()
  /** Every rule found in the app at the last look. */
  let known = new Set<string>()
  const discover = () => {
    const routes = discoverRoutes(app, rules)
    known = new Set(routes.map((route) => route.rule))
    return routes
  }
  const core = new StatusCore(resolved, { discover })

  const ruleOf = (req: Req): string => {
    const route = req.route
    if (route === undefined) return UNMATCHED
    let rule = rules.get(route)
    if (rule === undefined && !unknownRoutes.has(route)) {
      // a route defined since the last look: look again, once per route object
      discover()
      rule = rules.get(route)
      if (rule === undefined) {
        unknownRoutes.add(route)
        resolved.logger.warn(
          `server-status: the mount path of the route ${pathText(route.path)} is not known (a router mounted before ` +
            `serverStatus(app) was called, or mounted at a pattern), so it is counted as ${partialRule(route)}. ` +
            'Call serverStatus(app) before the app mounts its routers to get the whole rule.',
        )
      }
    }
    if (rule) return rule
    // a router mounted at several paths: the one this request came through, if it is one of
    // the app's rules; never a rule made of req.baseUrl alone, which holds the request's
    // values and would make a rule per URL
    const direct = joinRule(req.baseUrl ?? '', pathText(route.path))
    return known.has(direct) ? direct : partialRule(route)
  }

  const count = (req: Req, res: ServerResponse, startedAt: number): void => {
    try {
      core.record(ruleOf(req), res.statusCode, threw(req), startedAt)
    } catch (error) {
      resolved.logger.error(`server-status: a request could not be counted: ${(error as Error).message}`)
    }
  }

  const urlPrefix = resolved.urlPrefix
  const apiPrefix = resolved.api?.prefix ?? null

  app.use(function serverStatus(req: Req, res: Res, next: (err?: unknown) => void) {
    const url = req.url ?? '/'
    if (url.startsWith(urlPrefix) || (apiPrefix !== null && url.startsWith(apiPrefix))) {
      const query = url.indexOf('?')
      const path = query === -1 ? url : url.slice(0, query)
      if (core.owns(path)) {
        serve(core, req, res, path, next)
        return
      }
    }
    // Date.now(), not performance.now(): the finish reuses its clock read for the minute, and
    // whole milliseconds still average to the true duration over many requests. The start
    // stays in this closure: a property added to Express's response objects costs more.
    const startedAt = Date.now()
    res.on('finish', () => count(req, res, startedAt))
    next()
  })

  return core.handleObject()
}

/** The bounded rule of a route whose mount path is not known: its own path under "/…". */
function partialRule(route: ExpressRoute): string {
  return boundRule(joinRule('/…', pathText(route.path)))
}

function serve(core: StatusCore, req: Req, res: Res, path: string, next: (err?: unknown) => void): void {
  core
    .handle({
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      basePath: req.baseUrl ?? '',
      ip: req.ip ?? req.socket.remoteAddress ?? '',
      raw: req,
      body: () => readBody(req),
    })
    .then(
      (answer) => (answer === null ? next() : send(res, req.method === 'HEAD', answer)),
      (error: unknown) => {
        core.options.logger.error(`server-status: ${path} failed: ${(error as Error).message}`)
        send(res, false, { status: 503, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"error":"storage unavailable"}' })
      },
    )
}

function send(res: ServerResponse, head: boolean, answer: CoreResponse): void {
  if (res.headersSent) return
  // encoded once: its length and the bytes sent come from the same buffer
  const body = Buffer.from(answer.body, 'utf8')
  res.statusCode = answer.status
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
  res.setHeader('content-length', body.length)
  res.end(head ? undefined : body)
}

/** Reads at most `MAX_BODY_BYTES`; a body parsed by the app's own parser is taken as it is. */
function readBody(req: Req): Promise<BodyResult> {
  if (req.body !== undefined && (req._body === true || req.readableEnded)) {
    return Promise.resolve({ kind: 'parsed', value: req.body })
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (result: BodyResult) => {
      if (done) return
      done = true
      req.removeListener('data', onData)
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        // the rest is read and dropped so the connection can answer 413
        req.resume()
        finish({ kind: 'too_large' })
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => finish({ kind: 'text', text: Buffer.concat(chunks).toString('utf8') }))
    req.once('error', () => finish({ kind: 'too_large' }))
  })
}
