// Finds the route templates of an Express 4 or 5 app, including routers mounted at a path.
import { createHash } from 'node:crypto'
import type { DiscoveredRoute } from '../core.js'
import { nameFromHandlers } from '../naming.js'

/* Express keeps its routing tables in undocumented but long-stable fields: `app._router`
 * (4) or `app.router` (5), each a router with a `stack` of layers; a layer has either a
 * `route` (with `path` and its own `stack` of handler layers) or a `handle` that may be a
 * mounted router. Express 5 does not keep a mounted router's path, so `use` is wrapped to
 * remember it. */

/** The parts of an Express layer that are read. */
export interface ExpressLayer {
  route?: ExpressRoute
  handle?: { stack?: ExpressLayer[] } & Function
  regexp?: RegExp & { fast_slash?: boolean }
  keys?: Array<{ name: string | number }>
  slash?: boolean
  name?: string
}

/** The parts of an Express route that are read. */
export interface ExpressRoute {
  path: unknown
  stack: Array<{ handle: Function }>
}

/** An Express 4 or 5 app, typed by what the public API needs of it. */
export interface ExpressApp {
  use: (...args: any[]) => unknown
}

/** The internal fields of an Express app that are read. */
interface AppInternals {
  lazyrouter?: () => void
  _router?: { stack: ExpressLayer[] }
  router?: { stack: ExpressLayer[] }
}

const PATCHED = Symbol.for('server-status.patched')
/** Requests whose route handler threw or rejected: a set, not a property, so that the common
 * case (no error) never adds to or misses a lookup on Express's request objects. */
const threwOn = new WeakSet<object>()
/** Mount path of each layer added by `use(path, …)` once the router was wrapped. */
const mountPaths = new WeakMap<object, string>()
/** The sub-app behind each layer that mounts one: Express hides it in a closure. */
const subApps = new WeakMap<object, ExpressApp>()

function isApp(value: unknown): value is ExpressApp {
  if (typeof value !== 'function') return false
  const app = value as unknown as { handle?: unknown; set?: unknown; use?: unknown }
  return typeof app.handle === 'function' && typeof app.set === 'function' && typeof app.use === 'function'
}

/**
 * Wraps an app's own `use` to remember the sub-apps it mounts (and theirs, in turn), so their
 * routes are listed before they get traffic.
 */
export function instrumentApp(app: ExpressApp): void {
  const own = app as ExpressApp & Record<symbol, unknown>
  if (own[PATCHED]) return
  Object.defineProperty(own, PATCHED, { value: true })
  const use = app.use
  app.use = function use_(this: ExpressApp, ...args: unknown[]) {
    const router = rootRouter(app)
    const before = router?.stack.length ?? 0
    const result = use.apply(this, args)
    const mounted = args.flat(Infinity).filter(isApp)
    if (router && mounted.length > 0) {
      let next = 0
      for (let i = before; i < router.stack.length && next < mounted.length; i++) {
        const layer = router.stack[i]!
        if (!layer.route && !Array.isArray(layer.handle?.stack)) {
          const sub = mounted[next++]!
          subApps.set(layer, sub)
          instrumentApp(sub)
        }
      }
    }
    return result
  }
}

/** The app's root router, created if Express makes it lazily. */
export function rootRouter(express: ExpressApp): { stack: ExpressLayer[] } | undefined {
  const app = express as ExpressApp & AppInternals
  if (typeof app.lazyrouter === 'function') {
    app.lazyrouter()
    return app._router
  }
  return app.router ?? app._router
}

function owner(object: object, key: string): Record<string, unknown> | null {
  let current: object | null = object
  while (current !== null && !Object.prototype.hasOwnProperty.call(current, key)) current = Object.getPrototypeOf(current)
  return current as Record<string, unknown> | null
}

/**
 * Wraps the router's `use` to remember mount paths, and `Route#dispatch` to notice a handler
 * that throws or rejects. Done once per copy of Express; behaviour is otherwise unchanged.
 */
export function instrument(router: object): void {
  const proto = owner(router, 'use')
  if (proto === null || proto[PATCHED as unknown as string]) return
  Object.defineProperty(proto, PATCHED, { value: true })
  const use = proto.use as (this: { stack: ExpressLayer[] }, ...args: unknown[]) => unknown
  proto.use = function use_(this: { stack: ExpressLayer[] }, ...args: unknown[]) {
    const before = Array.isArray(this.stack) ? this.stack.length : 0
    const result = use.apply(this, args)
    const path = typeof args[0] === 'string' ? args[0] : typeof args[0] === 'function' ? '/' : null
    if (path !== null && Array.isArray(this.stack)) {
      for (let i = before; i < this.stack.length; i++) mountPaths.set(this.stack[i]!, path)
    }
    return result
  }

  const makeRoute = owner(router, 'route')?.route as ((this: object, path: string) => object) | undefined
  if (typeof makeRoute !== 'function') return
  let routeProto: Record<string, unknown> | null = null
  try {
    routeProto = owner(makeRoute.call({ stack: [], caseSensitive: false, strict: false }, '/'), 'dispatch')
  } catch {
    return
  }
  if (routeProto === null || routeProto[PATCHED as unknown as string]) return
  Object.defineProperty(routeProto, PATCHED, { value: true })
  const dispatch = routeProto.dispatch as (req: object, res: object, done: (err?: unknown) => void) => unknown
  routeProto.dispatch = function dispatch_(this: object, req: object, res: object, done: (err?: unknown) => void) {
    return dispatch.call(this, req, res, function routeDone(err?: unknown) {
      if (err && err !== 'route' && err !== 'router') threwOn.add(req)
      return done(err)
    })
  }
}

/** Tells whether a handler of the request's route threw or rejected. */
export function threw(req: object): boolean {
  return threwOn.has(req)
}

/** Reads the mount path back from an Express 4 layer's regular expression, where it is plain. */
function pathFromRegexp(layer: ExpressLayer): string | null {
  const regexp = layer.regexp
  if (!regexp) return null
  if (regexp.fast_slash) return ''
  let source = regexp.source
  if (!source.startsWith('^') || !source.endsWith('\\/?(?=\\/|$)')) return null
  source = source.slice(1, -'\\/?(?=\\/|$)'.length)
  let key = 0
  source = source.replace(/\(\?:\(\[\^\\\/\]\+\?\)\)/g, () => `:${layer.keys?.[key++]?.name ?? key}`)
  const path = source.replace(/\\(.)/g, '$1')
  return /[()[\]*+?|^$]/.test(path) ? null : path
}

function mountOf(layer: ExpressLayer): string | null {
  const known = mountPaths.get(layer)
  if (known !== undefined) return known === '/' ? '' : known
  if (layer.slash === true) return ''
  return pathFromRegexp(layer)
}

function subStack(layer: ExpressLayer): ExpressLayer[] | undefined {
  const sub = subApps.get(layer)
  return sub === undefined ? undefined : rootRouter(sub)?.stack
}

/** A rule from a mount prefix and a route path: `/hello` + `/world`; `/hello` + `/` is `/hello`. */
export function joinRule(base: string, path: string): string {
  if (base === '' || base === '/') return path
  return path === '/' ? base : base + path
}

/** Longest rule kept, as the stores' rule columns allow. */
export const MAX_RULE_LENGTH = 512

/** A rule cut to `MAX_RULE_LENGTH`, ending in a hash of the whole so that long rules stay apart. */
export function boundRule(rule: string): string {
  if (rule.length <= MAX_RULE_LENGTH) return rule
  const hash = createHash('sha1').update(rule).digest('hex').slice(0, 10)
  return `${rule.slice(0, MAX_RULE_LENGTH - 12)}…~${hash}`
}

/** A route path as a rule; arrays and regular expressions become their text. */
export function pathText(path: unknown): string {
  if (typeof path === 'string') return path
  if (Array.isArray(path)) return path.map(String).join(',')
  return String(path)
}

/**
 * Every route of the app in registration order. Fills `index` with route object → rule, so a
 * request's rule is found from `req.route` even when its mount path has parameters.
 */
export function discoverRoutes(app: ExpressApp, index: WeakMap<object, string>): DiscoveredRoute[] {
  const routes: DiscoveredRoute[] = []
  const router = rootRouter(app)
  if (!router) return routes
  const seen = new Set<ExpressLayer[]>()
  const walk = (stack: ExpressLayer[], base: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const rule = boundRule(joinRule(base, pathText(layer.route.path)))
        const handlers = layer.route.stack.map((l) => l.handle).filter((h) => typeof h === 'function')
        routes.push({ rule, ...nameFromHandlers(handlers) })
        const known = index.get(layer.route)
        // one router mounted at two paths: its routes have no single rule
        index.set(layer.route, known === undefined || known === rule ? rule : '')
      } else {
        const stack = Array.isArray(layer.handle?.stack) ? layer.handle.stack : subStack(layer)
        if (stack === undefined || seen.has(stack)) continue
        const mount = mountOf(layer)
        if (mount === null) continue
        seen.add(stack)
        walk(stack, joinRule(base, mount) === '/' ? '' : joinRule(base, mount))
        seen.delete(stack)
      }
    }
  }
  walk(router.stack, '')
  return routes
}
