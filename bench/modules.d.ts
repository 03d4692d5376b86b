// The parts of the untyped benchmark peers and load client that the benchmark uses.

declare module 'autocannon' {
  interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p97_5: number
    p99: number
  }
  interface Options {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    amount?: number
    timeout?: number
    headers?: Record<string, string>
  }
  interface Result {
    requests: Histogram
    latency: Histogram
    throughput: Histogram
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}

declare module 'express-status-monitor' {
  import type { RequestHandler } from 'express'
  function statusMonitor(config?: Record<string, unknown>): RequestHandler
  export default statusMonitor
}

declare module 'swagger-stats' {
  import type { RequestHandler } from 'express'
  const swaggerStats: { getMiddleware(options?: Record<string, unknown>): RequestHandler }
  export default swaggerStats
}
