// What the runner and its child processes say to each other: variants, arguments and results.

/** The variants measured side by side. */
export const VARIANTS = ['bare', 'floor', 'server-status', 'express-status-monitor', 'swagger-stats'] as const
export type Variant = (typeof VARIANTS)[number]

/** What the runner tells a server child. */
export interface ServerArg {
  variant: Variant
  /** Routes `/r0/:id` … besides `/users/:id`. Default 0. */
  extraRoutes?: number
  /** Database URL of server-status. */
  database?: string
  /** `days` option of server-status. */
  days?: number
  /** `flushIntervalMs` option of server-status; its default where left out. */
  flushIntervalMs?: number
}

/** What a server child reports about itself. */
export interface ServerStats {
  /** `process.cpuUsage()`: user and system CPU time in µs. */
  cpu: NodeJS.CpuUsage
  memory: NodeJS.MemoryUsage
}

/** One load run: a fixed duration or a fixed number of requests, never unbounded. */
export interface LoadArg {
  url: string
  connections: number
  /** Seconds; ignored when `amount` is set. */
  duration?: number
  /** Requests in all. */
  amount?: number
}

/** What one load run measured. */
export interface LoadResult {
  requests: number
  seconds: number
  /** Requests per second over the run. */
  rps: number
  /** Latency percentiles in ms. */
  p50: number
  p99: number
  /** Responses that were not 2xx, errors and timeouts: all must be 0 for a valid run. */
  bad: number
}

/** How long the in-process timing runs. */
export interface MicroArg {
  /** Calls per measurement. */
  calls: number
  rounds: number
}

/** Median nanoseconds per call of each case, over the rounds. */
export interface MicroResult {
  calls: number
  rounds: number
  /** Case → ns per call, one figure per round. */
  samples: Record<MicroCase, number[]>
}

/** The cases, in the order they are reported. */
export const MICRO_CASES = {
  'recorder.record()': 'Recorder.record() alone, 5 rules, Date.now() per call',
  'no middleware': 'a fresh response emitter and its finish event, nothing listening',
  floor: 'the res.on("finish") counter, then the finish event',
  'server-status': 'the serverStatus middleware, then the finish event (rule lookup, classify, Date.now, record)',
} as const
export type MicroCase = keyof typeof MICRO_CASES
