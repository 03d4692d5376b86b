// A child process timing the per-request path in-process: the Recorder, and each middleware driven with minimal req/res objects.
import { EventEmitter } from 'node:events'
import express from 'express'
import { serverStatus } from '../src/express/index.js'
import { Recorder, SUCCESS } from '../src/recorder.js'
import { answerCalls } from './children.js'
import type { MicroArg, MicroCase, MicroResult } from './shared.js'


type Handler = (req: FakeRequest, res: EventEmitter, next: () => void) => void
interface FakeRequest {
  url: string
  method: string
  baseUrl: string
  route: unknown
}
interface Layer {
  name?: string
  handle: unknown
  route?: unknown
}

function noop(): void {}
let finished = 0
function countFinished(): void {
  finished++
}
function finishCounter(req: FakeRequest, res: EventEmitter, next: () => void): void {
  res.on('finish', countFinished)
  next()
}

/** The serverStatus middleware as Express holds it, and the route object of `/users/:id`. */
function serverStatusMiddleware(): { handler: Handler; route: unknown } {
  const app = express()
  serverStatus(app, { database: 'sqlite://:memory:', flushIntervalMs: 3_600_000, logger: false })
  app.get('/users/:id', function user(req, res) {
    res.json({ id: req.params.id })
  })
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack
  const layer = stack.find((l) => l.name === 'serverStatus')
  const route = stack.find((l) => l.route !== undefined)?.route
  if (!layer || typeof layer.handle !== 'function' || route === undefined) throw new Error('serverStatus middleware not found in the router')
  return { handler: layer.handle as Handler, route }
}

function timeRecorder(calls: number): number {
  const recorder = new Recorder()
  const rules = ['/', '/users/:id', '/orders/:id', '/health', '/search']
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) recorder.record(rules[i % 5]!, SUCCESS, 1.5, Date.now())
  const ns = Number(process.hrtime.bigint() - start)
  if (recorder.size === 0) throw new Error('nothing recorded')
  return ns / calls
}

function timeMiddleware(handler: Handler | null, route: unknown, calls: number): number {
  const req: FakeRequest = { url: '/users/42', method: 'GET', baseUrl: '', route }
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) {
    const res = new EventEmitter() as EventEmitter & { statusCode: number; req: FakeRequest }
    res.statusCode = 200
    res.req = req
    if (handler !== null) handler(req, res, noop)
    res.emit('finish')
  }
  return Number(process.hrtime.bigint() - start) / calls
}

async function run(arg: MicroArg): Promise<MicroResult> {
  const { handler, route } = serverStatusMiddleware()
  // let the store open and the routes be discovered, as after an app's start
  await new Promise((resolve) => setTimeout(resolve, 200))
  const cases: Record<MicroCase, (calls: number) => number> = {
    'recorder.record()': (calls) => timeRecorder(calls),
    'no middleware': (calls) => timeMiddleware(null, route, calls),
    floor: (calls) => timeMiddleware(finishCounter, route, calls),
    'server-status': (calls) => timeMiddleware(handler, route, calls),
  }
  const names = Object.keys(cases) as MicroCase[]
  for (const name of names) cases[name](Math.min(arg.calls, 200_000))
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<MicroCase, number[]>
  for (let round = 0; round < arg.rounds; round++) {
    // rotate the order so that a slow moment of the machine hits every case alike
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!
      samples[name].push(cases[name](arg.calls))
    }
  }
  if (finished === 0) throw new Error('the floor counted nothing')
  return { calls: arg.calls, rounds: arg.rounds, samples }
}

answerCalls({ run })
