// The framework-free request and response that adapters map their own objects onto.
import type { IncomingHttpHeaders } from 'node:http'

/** Largest configure-API body accepted, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024

/** A request body as the adapter could read it. */
export type BodyResult =
  | { kind: 'text'; text: string }
  | { kind: 'parsed'; value: unknown }
  | { kind: 'too_large' }

/** A request for the page, its assets, its JSON or the configure API. */
export interface CoreRequest {
  method: string
  /** The path without the query string, below `basePath`. */
  path: string
  /** Where the app is mounted (Express's `req.baseUrl` of a sub-app), `''` at the root. */
  basePath?: string
  headers: IncomingHttpHeaders
  /** The client's address, for rate limiting. */
  ip: string
  /** The framework's own request object, handed to a `protect` function. */
  raw: unknown
  /** Reads the body, at most `MAX_BODY_BYTES`. */
  body(): Promise<BodyResult>
}

/** The answer to a `CoreRequest`. */
export interface CoreResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** A JSON response. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): CoreResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
  }
}

/** A JSON error response `{ "error": message }`. */
export function jsonError(status: number, message: string, headers: Record<string, string> = {}): CoreResponse {
  return json(status, { error: message }, headers)
}
