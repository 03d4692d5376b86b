// A child process serving the benchmark's Express app in one variant: bare, a peer, the floor, or server-status.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import express, { type Request, type Response, type NextFunction } from 'express'
import type { StatusHandle } from '../src/types.js'
import { answerCalls, childArg } from './children.js'
import type { ServerArg, ServerStats } from './shared.js'


const arg = childArg<ServerArg>()
const app = express()
let status: StatusHandle | null = null
let finished = 0

function countFinished(): void {
  finished++
}

switch (arg.variant) {
  case 'bare':
    break
  case 'floor':
    app.use(function finishCounter(req: Request, res: Response, next: NextFunction) {
      res.on('finish', countFinished)
      next()
    })
    break
  case 'server-status': {
    const { serverStatus } = await import('server-status/express')
    status = serverStatus(app, {
      database: arg.database ?? 'sqlite://:memory:',
      days: arg.days ?? 30,
      ...(arg.flushIntervalMs === undefined ? {} : { flushIntervalMs: arg.flushIntervalMs }),
    })
    break
  }
  case 'express-status-monitor': {
    const statusMonitor = (await import('express-status-monitor')).default
    app.use(statusMonitor())
    break
  }
  case 'swagger-stats': {
    const swaggerStats = (await import('swagger-stats')).default
    app.use(swaggerStats.getMiddleware({}))
    break
  }
  default:
    throw new Error(`unknown variant ${String(arg.variant)}`)
}

app.get('/users/:id', function user(req: Request, res: Response) {
  res.json({ id: req.params.id, name: 'Ada Lovelace' })
})
for (let i = 0; i < (arg.extraRoutes ?? 0); i++) {
  app.get(`/r${i}/:id`, function route(req: Request, res: Response) {
    res.json({ route: i, id: req.params.id })
  })
}

let profiler: Session | null = null

/** Starts V8's CPU profiler, the one behind `node --cpu-prof`, so that a profile covers only the load. */
async function startProfile(): Promise<void> {
  profiler = new Session()
  profiler.connect()
  await profiler.post('Profiler.enable')
  await profiler.post('Profiler.setSamplingInterval', { interval: 100 })
  await profiler.post('Profiler.start')
}

/** Stops the profiler and writes the profile as a `.cpuprofile` file. */
async function stopProfile(file: string): Promise<void> {
  if (profiler === null) throw new Error('the profiler is not running')
  const { profile } = await profiler.post('Profiler.stop')
  profiler.disconnect()
  profiler = null
  writeFileSync(file, JSON.stringify(profile))
}

const server = app.listen(0, '127.0.0.1')
await new Promise<void>((resolve, reject) => {
  server.once('listening', resolve)
  server.once('error', reject)
})

answerCalls(
  {
    stats: (): ServerStats => ({ cpu: process.cpuUsage(), memory: process.memoryUsage() }),
    gc: (): ServerStats => {
      // twice: the first pass finalises what the second one frees
      globalThis.gc?.()
      globalThis.gc?.()
      return { cpu: process.cpuUsage(), memory: process.memoryUsage() }
    },
    flush: () => status?.flush(),
    finished: () => finished,
    startProfile,
    stopProfile,
    exit: async () => {
      server.closeAllConnections()
      await status?.close()
    },
  },
  { port: (server.address() as AddressInfo).port },
)
