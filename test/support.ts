// Shared test helpers: both Express majors, servers on 127.0.0.1, throwaway databases, reports and heap readings.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo, Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import express5 from 'express'
import express4 from 'express4'
import { afterEach } from 'vitest'
import type { RouteReport, StatusReport } from '../src/types.js'

/** Both supported Express majors, to run a suite once per major. */
export const EXPRESSES = [
  { name: 'Express 4', express: express4 as unknown as typeof express5 },
  { name: 'Express 5', express: express5 },
] as const

/** A server listening on 127.0.0.1 at a free port. */
export interface Running {
  url: string
  server: Server
  close(): Promise<void>
}

/** Starts `handler` (an Express app) on 127.0.0.1. */
export async function listen(handler: (req: any, res: any) => void): Promise<Running> {
  const { createServer } = await import('node:http')
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A SQLite file in a fresh temp folder; `cleanup()` removes the folder. */
export function tempSqlite(): { url: string; path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'server-status-'))
  const path = join(dir, 'status.db')
  return { url: `sqlite:///${path}`, path, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A name for a throwaway database. */
export function databaseName(): string {
  return `ss_test_${randomBytes(5).toString('hex')}`
}

/** A silent logger that keeps what was logged. */
export function memoryLogger(): { warn(m: string): void; error(m: string): void; lines: string[] } {
  const lines: string[] = []
  return { warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`), lines }
}

/** Sends `count` requests, `concurrency` at a time. */
export async function hit(url: string, count: number, init?: RequestInit, concurrency = 20): Promise<number[]> {
  const statuses: number[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      const res = await fetch(url, init)
      await res.arrayBuffer()
      statuses.push(res.status)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return statuses
}

/** Things to undo after a test, run last-added first. */
export type Cleanup = () => Promise<void> | void

/** A list of cleanups that an `afterEach` of the calling suite runs in reverse and empties. */
export function cleanupAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = []
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!()
  })
  return cleanups
}

/**
 * Runs `steps` in order the first time it is called, never again, and adds itself to
 * `cleanups`: a test may close early (to restart on the same database) and the cleanup after
 * it must then do nothing.
 */
export function closeOnce(cleanups: Cleanup[], ...steps: Array<() => Promise<void>>): () => Promise<void> {
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    for (const step of steps) await step()
  }
  cleanups.push(close)
  return close
}

/** A route's three counters. */
export type Counts = Pick<RouteReport, 'success' | 'failure' | 'ignored'>

/** The route of `rule` in `report`; throws, naming the rules there are, when it is missing. */
export function routeOf(report: StatusReport, rule: string): RouteReport {
  const route = report.routes.find((r) => r.rule === rule)
  if (route === undefined) throw new Error(`no route ${rule} in ${report.routes.map((r) => r.rule).join(', ')}`)
  return route
}

/** Just the counters of `route`. */
export function countsOf(route: RouteReport): Counts {
  return { success: route.success, failure: route.failure, ignored: route.ignored }
}

/** Directives of a Content-Security-Policy header: name → sources. */
export function directives(policy: string): Map<string, string[]> {
  const map = new Map<string, string[]>()
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name) map.set(name.toLowerCase(), sources)
  }
  return map
}

let exposedGc: (() => void) | undefined

/** V8's full garbage collection, exposed on first use. */
function gcFunction(): () => void {
  if (exposedGc === undefined) {
    setFlagsFromString('--expose-gc')
    exposedGc = runInNewContext('gc') as () => void
  }
  return exposedGc
}

/** Heap in use after full garbage collections, with the event loop given a turn between them. */
export async function settledHeap(): Promise<number> {
  const gc = gcFunction()
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  gc()
  return process.memoryUsage().heapUsed
}
