// The configure API: PUT renames or re-documents a route, DELETE removes it, behind a Bearer secret.
import { createHash, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { jsonError, json, MAX_BODY_BYTES, type CoreRequest, type CoreResponse } from './http.js'

/** What the API changes; the core implements it. */
export interface RouteEditor {
  /** Tells whether the app has this rule (registered in code or known to the store). */
  hasRule(rule: string): Promise<boolean>
  /** Sets name and/or doc; returns the route as now shown. */
  rename(rule: string, info: { name?: string; doc?: string }): Promise<{ rule: string; name: string; doc: string }>
  remove(rule: string): Promise<void>
}

const rule = z
  .string({ error: (issue) => (issue.input === undefined ? 'missing field "rule"' : 'field "rule" must be a string') })
  .min(1, 'field "rule" must not be empty')
  .max(512, 'field "rule" must be at most 512 characters')
  .refine((value) => value.startsWith('/'), 'field "rule" must start with "/"')
  .refine((value) => !value.includes('\0'), 'field "rule" must not contain NUL')

const text = (field: string, max: number) =>
  z
    .string({ error: `field "${field}" must be a string` })
    .max(max, `field "${field}" must be at most ${max} characters`)
    .refine((value) => !value.includes('\0'), `field "${field}" must not contain NUL`)

const unknownField = { error: (issue: { code: string; keys?: string[] }) => (issue.code === 'unrecognized_keys' ? `unknown field "${issue.keys?.[0]}"` : 'the body must be a JSON object') }

const putBody = z.strictObject({ rule, name: text('name', 200).optional(), doc: text('doc', 10_000).optional() }, unknownField)
const deleteBody = z.strictObject({ rule }, unknownField)

/** Failed authentications from one address within a minute before it gets 429. */
export const MAX_AUTH_FAILURES = 10
const WINDOW_MS = 60_000
/** Addresses remembered at once; past it the oldest windows are forgotten. */
const MAX_TRACKED = 10_000

/** Counts failed authentications per address per minute. */
class FailureWindow {
  readonly #byIp = new Map<string, { start: number; failures: number }>()

  blocked(ip: string, now: number): number {
    const entry = this.#byIp.get(ip)
    if (entry === undefined || now - entry.start >= WINDOW_MS) return 0
    return entry.failures >= MAX_AUTH_FAILURES ? Math.ceil((entry.start + WINDOW_MS - now) / 1000) : 0
  }

  fail(ip: string, now: number): void {
    let entry = this.#byIp.get(ip)
    if (entry === undefined || now - entry.start >= WINDOW_MS) {
      this.#byIp.delete(ip)
      if (this.#byIp.size >= MAX_TRACKED) this.#byIp.delete(this.#byIp.keys().next().value!)
      entry = { start: now, failures: 0 }
      this.#byIp.set(ip, entry)
    }
    entry.failures++
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** Serves `PUT` and `DELETE ${prefix}/configure`. */
export class ConfigureApi {
  readonly path: string
  readonly #secretDigest: Buffer
  readonly #editor: RouteEditor
  readonly #failures = new FailureWindow()

  constructor(options: { secret: string; prefix: string }, editor: RouteEditor) {
    this.path = `${options.prefix}/configure`
    this.#secretDigest = digest(options.secret)
    this.#editor = editor
  }

  /**
   * Compares the Bearer token with the secret in constant time (both are hashed to equal length
   * first). The scheme is matched exactly as documented, `Bearer`, and the token only from the
   * header, never from the query string.
   */
  #authorized(header: string | undefined): boolean {
    const match = header === undefined ? null : /^Bearer (.+)$/.exec(header)
    const given = digest(match ? match[1]! : '')
    return timingSafeEqual(given, this.#secretDigest) && match !== null
  }

  async handle(req: CoreRequest): Promise<CoreResponse> {
    const method = req.method.toUpperCase()
    if (method !== 'PUT' && method !== 'DELETE') {
      return jsonError(405, `method ${method} is not allowed; use PUT or DELETE`, { allow: 'PUT, DELETE' })
    }
    const now = Date.now()
    const wait = this.#failures.blocked(req.ip, now)
    if (wait > 0) {
      return jsonError(429, `too many failed authentications from this address; try again in ${wait} s`, { 'retry-after': String(wait) })
    }
    if (!this.#authorized(req.headers.authorization)) {
      this.#failures.fail(req.ip, now)
      return jsonError(401, 'missing or wrong token: send "Authorization: Bearer <secret>"', { 'www-authenticate': 'Bearer' })
    }
    const length = Number(req.headers['content-length'] ?? 0)
    if (length > MAX_BODY_BYTES) return jsonError(413, `the body is over ${MAX_BODY_BYTES / 1024} KiB`)
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
      return jsonError(415, 'the body must be JSON: send "Content-Type: application/json"')
    }
    const body = await req.body()
    if (body.kind === 'too_large') return jsonError(413, `the body is over ${MAX_BODY_BYTES / 1024} KiB`)
    let value: unknown
    if (body.kind === 'parsed') {
      value = body.value
      if (JSON.stringify(value ?? null).length > MAX_BODY_BYTES) return jsonError(413, `the body is over ${MAX_BODY_BYTES / 1024} KiB`)
    } else {
      try {
        value = JSON.parse(body.text)
      } catch {
        return jsonError(400, 'malformed JSON body')
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return jsonError(400, 'the body must be a JSON object such as {"rule": "/"}')
    }

    const parsed = (method === 'PUT' ? putBody : deleteBody).safeParse(value)
    if (!parsed.success) return jsonError(400, parsed.error.issues[0]!.message)
    const data = parsed.data as { rule: string; name?: string; doc?: string }
    if (!(await this.#editor.hasRule(data.rule))) return jsonError(404, `no route "${data.rule}" in this app`)

    if (method === 'DELETE') {
      await this.#editor.remove(data.rule)
      return json(200, { message: 'Route deleted' })
    }
    const info: { name?: string; doc?: string } = {}
    if (data.name !== undefined) info.name = data.name
    if (data.doc !== undefined) info.doc = data.doc
    const route = await this.#editor.rename(data.rule, info)
    return json(200, { message: 'Route modified', route })
  }
}
