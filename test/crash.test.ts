// A killed app loses at most what came after its last flush; a stopped one loses nothing.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { countsIn, report, RULE, send, sleep, type Target } from './fixtures/outage-app.js'
import { sqlite, total, type Counts, type TestDatabase } from './fixtures/outage-databases.js'

const INSTANCE = resolve(import.meta.dirname, 'fixtures', 'crash-instance.ts')
const PREFIX = 'server_status_'
const HOUR = 3_600_000

interface Instance extends Target {
  child: ChildProcess
  flush(): Promise<void>
}

let children: ChildProcess[] = []
let databases: TestDatabase[] = []

afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? once(child, 'exit') : null)))
  children = []
  for (const database of databases) await database.drop()
  databases = []
})

async function database(): Promise<TestDatabase> {
  const created = sqlite()
  databases.push(created)
  await created.create()
  return created
}

/** Starts the app process on `url`; resolves once it listens. */
async function start(url: string, flushMs: number, sent: Counts): Promise<Instance> {
  const child = fork(INSTANCE, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: url, FLUSH_MS: String(flushMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.push(child)
  const [first] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => Promise.reject(new Error('the app process exited before it listened'))),
    sleep(30_000).then(() => Promise.reject(new Error('the app process did not listen within 30 s'))),
  ])) as [{ port: number }]
  let next = 0
  const flush = async () => {
    const id = next++
    const answered = new Promise<void>((resolve, reject) => {
      const onMessage = (answer: { flushed?: number; error?: string }) => {
        if (answer.flushed !== id) return
        child.off('message', onMessage)
        if (answer.error) reject(new Error(answer.error))
        else resolve()
      }
      child.on('message', onMessage)
    })
    child.send({ cmd: 'flush', id })
    await answered
  }
  return { child, url: `http://127.0.0.1:${first.port}`, sent, flush }
}

/** Stops `child` with `signal`; resolves with its exit code and signal. */
async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<[number | null, NodeJS.Signals | null]> {
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  child.kill(signal)
  return Promise.race([exited, sleep(10_000).then(() => Promise.reject(new Error(`no exit within 10 s of ${signal}`)))])
}

/** The day and minute rows of the route, summed. */
async function stored(db: TestDatabase) {
  return { days: total(await db.days(PREFIX, RULE)), minutes: total(await db.minutes(PREFIX, RULE)) }
}

describe('an app process on SQLite that is killed or stopped', () => {
  it('keeps, after kill -9, exactly what the last explicit flush wrote', async () => {
    const db = await database()
    const sent: Counts = { success: 0, failure: 0, ignored: 0 }
    const first = await start(db.url(), HOUR, sent)
    await send(first, 40)
    await first.flush()
    const flushed = { ...sent }
    await send(first, 25)
    expect(await stop(first.child, 'SIGKILL')).toEqual([null, 'SIGKILL'])

    const second = await start(db.url(), HOUR, { ...flushed })
    expect(countsIn((await report(second)).report)).toEqual(flushed)
    expect(await stored(db)).toEqual({ days: flushed, minutes: flushed })
    expect(flushed).toEqual({ success: 16, failure: 16, ignored: 8 })
    expect(sent.success + sent.failure + sent.ignored).toBe(65)
  })

  it('loses, after kill -9, only the requests since the last timed flush', async () => {
    const db = await database()
    const sent: Counts = { success: 0, failure: 0, ignored: 0 }
    const first = await start(db.url(), 2_500, sent)
    await send(first, 40)
    // the timer writes the 40; right after that, 25 more come and the process dies before the next tick
    const deadline = Date.now() + 10_000
    for (;;) {
      const rows = await stored(db).catch(() => null)
      if (rows !== null && rows.days.success + rows.days.failure + rows.days.ignored === 40) break
      if (Date.now() > deadline) throw new Error('the timed flush did not write the first 40 requests within 10 s')
      await sleep(10)
    }
    const flushed = { ...sent }
    await send(first, 25)
    expect(await stop(first.child, 'SIGKILL')).toEqual([null, 'SIGKILL'])

    expect(await stored(db)).toEqual({ days: flushed, minutes: flushed })
    const second = await start(db.url(), HOUR, { ...flushed })
    expect(countsIn((await report(second)).report)).toEqual(flushed)
    expect(sent.success + sent.failure + sent.ignored).toBe(65)
  })

  it('keeps every request when SIGTERM closes the status handle', async () => {
    const db = await database()
    const sent: Counts = { success: 0, failure: 0, ignored: 0 }
    const first = await start(db.url(), HOUR, sent)
    await send(first, 40)
    await first.flush()
    await send(first, 25)
    expect(await stop(first.child, 'SIGTERM')).toEqual([0, null])

    expect(await stored(db)).toEqual({ days: sent, minutes: sent })
    const second = await start(db.url(), HOUR, { ...sent })
    expect(countsIn((await report(second)).report)).toEqual(sent)
    expect(sent).toEqual({ success: 26, failure: 26, ignored: 13 })
  })
})
