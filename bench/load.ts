// A child process that puts load on one URL with autocannon and reports what it measured.
import autocannon from 'autocannon'
import { answerCalls } from './children.js'
import type { LoadArg, LoadResult } from './shared.js'


async function run(arg: LoadArg): Promise<LoadResult> {
  const url = new URL(arg.url)
  if (url.hostname !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only, not ${url.hostname}`)
  if (arg.amount === undefined && (arg.duration === undefined || arg.duration > 120)) {
    throw new Error('a load run needs an amount or a duration of at most 120 s')
  }
  const result = await autocannon({
    url: arg.url,
    connections: arg.connections,
    pipelining: 1,
    timeout: 10,
    ...(arg.amount !== undefined ? { amount: arg.amount } : { duration: arg.duration! }),
  })
  const requests = result['2xx'] + result.non2xx
  return {
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    bad: result.non2xx + result.errors + result.timeouts,
  }
}

answerCalls({ run })
