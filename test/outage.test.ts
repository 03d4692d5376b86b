// The store goes away, hangs, loses a reply or is locked: the app serves on and no count is lost or doubled.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  countsIn,
  errors,
  flushUntilWritten,
  median,
  page,
  report,
  RULE,
  send,
  sleep,
  startApp,
  type TestApp,
} from './fixtures/outage-app.js'
import { mariadb, postgres, sqlite, total, type TestDatabase } from './fixtures/outage-databases.js'
import { TcpProxy } from './tcp-proxy.js'

const LOCKER = resolve(import.meta.dirname, 'fixtures', 'outage-sqlite-lock.mjs')

/** Most time a request of the app may take while the store is down, in ms. */
const SLOW_MS = 200

const failures: unknown[] = []
const onFailure = (error: unknown) => failures.push(error instanceof Error ? error.stack : error)
let apps: TestApp[] = []

beforeAll(() => {
  process.on('unhandledRejection', onFailure)
  process.on('uncaughtException', onFailure)
})

afterAll(() => {
  process.off('unhandledRejection', onFailure)
  process.off('uncaughtException', onFailure)
})

async function app(database: string, options: Parameters<typeof startApp>[1] = {}): Promise<TestApp> {
  const started = await startApp(database, options)
  apps.push(started)
  return started
}

async function closeApps(): Promise<void> {
  vi.useRealTimers()
  const closing = apps
  apps = []
  await Promise.all(closing.map((a) => a.close().catch(() => {})))
}

/** The route's rows in the database, summed: day rows and minute rows must agree. */
async function stored(database: TestDatabase, a: TestApp) {
  return { days: total(await database.days(a.tablePrefix, RULE)), minutes: total(await database.minutes(a.tablePrefix, RULE)) }
}

for (const database of [postgres(), mariadb()]) {
  describe(`${database.name} behind a proxy that cuts and hangs`, () => {
    let proxy: TcpProxy | undefined

    beforeAll(async () => {
      await database.create()
      proxy = await TcpProxy.start(database.port!)
    })

    afterEach(async () => {
      proxy?.restore()
      await closeApps()
      expect(failures.splice(0)).toEqual([])
    })

    afterAll(async () => {
      await proxy?.close()
      await database.drop()
    })

    it('serves every request while the database is cut, logs once, then writes every count exactly once', async () => {
      const a = await app(database.url(proxy!.port))
      const before = await send(a, 30)
      await a.status.flush()
      expect(countsIn((await report(a)).report)).toEqual(a.sent)

      const cutAt = Date.now()
      proxy!.cut()
      // paced over several flush intervals, so timed flushes fail among the requests
      const during = await send(a, 150, 5)
      await expect(a.status.flush()).rejects.toThrow()
      await expect(a.status.flush()).rejects.toThrow()

      expect(Math.max(...during)).toBeLessThan(SLOW_MS)
      expect(median(during)).toBeLessThan(median(before) * 3 + 20)

      const shown = await page(a)
      expect(shown.status).toBe(200)
      expect(shown.ms).toBeLessThan(2_000)
      expect(shown.html).toContain('Storage unavailable since')

      const live = await report(a)
      expect(live.ms).toBeLessThan(2_000)
      expect(live.report.storageUnavailableSince).not.toBeNull()
      expect(Date.parse(live.report.storageUnavailableSince!)).toBeGreaterThanOrEqual(cutAt - 1)
      expect(countsIn(live.report)).toEqual(a.sent)
      expect(live.report.dropped).toBe(0)

      expect(errors(a)).toHaveLength(1)
      expect(errors(a)[0]).toMatch(/storage unavailable/)

      proxy!.restore()
      await flushUntilWritten(a)
      expect(a.sent).toEqual({ success: 72, failure: 72, ignored: 36 })
      expect(await stored(database, a)).toEqual({ days: a.sent, minutes: a.sent })
      const after = await report(a)
      expect(countsIn(after.report)).toEqual(a.sent)
      expect(after.report.storageUnavailableSince).toBeNull()
      expect(errors(a)).toHaveLength(1)
      expect(a.logger.lines.filter((line) => /available again/.test(line))).toHaveLength(1)
    })

    it('writes a flush cut half-way once, when the database is back', async () => {
      const a = await app(database.url(proxy!.port))
      await send(a, 20)
      await a.status.flush()

      proxy!.pause()
      await send(a, 40)
      const flushing = a.status.flush()
      // the write is under way and its statements wait in the proxy
      await sleep(400)
      proxy!.cut()
      await expect(flushing).rejects.toThrow()
      proxy!.restore()
      await send(a, 10)

      await flushUntilWritten(a)
      expect(await stored(database, a)).toEqual({ days: a.sent, minutes: a.sent })
      expect(countsIn((await report(a)).report)).toEqual(a.sent)
      expect(a.sent.success + a.sent.failure + a.sent.ignored).toBe(70)
    })

    it('rolls back a flush cut between two of its statements and writes it whole later', async () => {
      const a = await app(database.url(proxy!.port), { flushIntervalMs: 3_600_000 })
      await send(a, 20)
      await a.status.flush()
      const written = { ...a.sent }
      await send(a, 30)

      // the minute rows are added inside the transaction; it breaks before the day rows
      proxy!.cutBefore(/insert into [`"]?\w+_days/i)
      await expect(a.status.flush()).rejects.toThrow()
      expect(proxy!.statementsCut).toBe(1)
      expect(await stored(database, a)).toEqual({ days: written, minutes: written })

      proxy!.restore()
      await a.status.flush()
      expect(await stored(database, a)).toEqual({ days: a.sent, minutes: a.sent })
      expect(countsIn((await report(a)).report)).toEqual(a.sent)
      expect(a.sent.success + a.sent.failure + a.sent.ignored).toBe(50)
    })

    it('does not count twice a batch whose COMMIT went through but whose reply was lost', async () => {
      const a = await app(database.url(proxy!.port), { flushIntervalMs: 3_600_000 })
      await send(a, 20)
      await a.status.flush()
      await send(a, 30)

      proxy!.cutAfterCommit()
      await expect(a.status.flush()).rejects.toThrow()
      expect(proxy!.commitsCut).toBe(1)
      // the database has the batch: the write did go through
      expect(await stored(database, a)).toEqual({ days: a.sent, minutes: a.sent })

      proxy!.restore()
      // the page is read again from the database while the batch still waits for its retry
      expect(countsIn((await report(a)).report)).toEqual(a.sent)
      await a.status.flush()
      expect(await stored(database, a)).toEqual({ days: a.sent, minutes: a.sent })
      expect(countsIn((await report(a)).report)).toEqual(a.sent)
      expect(a.sent.success + a.sent.failure + a.sent.ignored).toBe(50)
    })

    it('serves every request while the database hangs, then writes every count exactly once', async () => {
      const a = await app(database.url(proxy!.port))
      const before = await send(a, 20)
      await a.status.flush()
      expect(countsIn((await report(a)).report)).toEqual(a.sent)

      proxy!.pause()
      const during = await send(a, 60, 5)
      const flushing = a.status.flush()
      let flushed = false
      void flushing.then(() => (flushed = true), () => {})
      expect(Math.max(...during)).toBeLessThan(SLOW_MS)
      expect(median(during)).toBeLessThan(median(before) * 3 + 20)

      const shown = await page(a)
      expect(shown.status).toBe(200)
      expect(shown.ms).toBeLessThan(2_500)
      const live = await report(a)
      expect(live.ms).toBeLessThan(2_500)
      expect(countsIn(live.report)).toEqual(a.sent)
      expect(flushed).toBe(false)

      proxy!.restore()
      await flushing
      await a.status.flush()
      expect(await stored(database, a)).toEqual({ days: a.sent, minutes: a.sent })
      const after = await report(a)
      expect(countsIn(after.report)).toEqual(a.sent)
      expect(after.report.storageUnavailableSince).toBeNull()
      expect(errors(a)).toEqual([])
    })

    it('holds at most maxPendingRouteMinutes while cut, dropping the oldest minutes and saying how many', async () => {
      const a = await app(database.url(proxy!.port), { maxPendingRouteMinutes: 100 })
      // the store is open before the outage
      await send(a, 1)
      await a.status.flush()
      expect(countsIn((await report(a)).report)).toEqual(a.sent)
      const baseline = { ...a.sent }

      vi.useFakeTimers({ toFake: ['Date'] })
      const first = Math.floor(Date.now() / 60_000) - 200
      proxy!.cut()
      const sent: Array<{ minute: number; requests: number }> = []
      for (let i = 0; i < 130; i++) {
        vi.setSystemTime((first + i) * 60_000 + 500)
        const requests = 1 + (i % 4)
        await send(a, requests)
        sent.push({ minute: first + i, requests })
        // a flush fails early in the outage, as one would on its timer
        if (i === 20) await expect(a.status.flush()).rejects.toThrow()
      }
      const all = sent.reduce((n, s) => n + s.requests, 0)

      const live = (await report(a)).report
      expect(live.dropped).toBeGreaterThan(0)
      const held = countsIn(live)
      expect(held.success + held.failure + held.ignored).toBe(1 + all - live.dropped)
      expect((await page(a)).html).toContain(`${live.dropped} requests were dropped`)
      await expect(a.status.flush()).rejects.toThrow()
      // each flush logs what was dropped since the one before
      const logged = errors(a).flatMap((line) => /(\d+) requests dropped/.exec(line)?.[1] ?? [])
      expect(logged.length).toBeGreaterThan(0)
      expect(logged.reduce((n, d) => n + Number(d), 0)).toBe(live.dropped)

      proxy!.restore()
      await flushUntilWritten(a)
      const rows = (await database.minutes(a.tablePrefix, RULE)).filter((r) => r.minute >= first && r.minute < first + 130)
      // what is kept is the newest minutes, each whole; what is dropped is the oldest, and counted
      const kept = sent.slice(sent.length - rows.length)
      expect(rows.map((r) => [r.minute, r.success + r.failure + r.ignored])).toEqual(kept.map((s) => [s.minute, s.requests]))
      expect(rows.length).toBeLessThanOrEqual(101)
      expect(live.dropped).toBe(sent.slice(0, sent.length - rows.length).reduce((n, s) => n + s.requests, 0))
      const after = (await report(a)).report
      // what the page showed during the outage (the request before it included) is what it shows after
      expect(countsIn(after)).toEqual(held)
      expect(total(rows)).toEqual({
        success: held.success - baseline.success,
        failure: held.failure - baseline.failure,
        ignored: held.ignored - baseline.ignored,
      })
      expect(after.dropped).toBe(live.dropped)
    })
  })
}

describe('SQLite file locked by another process', () => {
  const database = sqlite()
  let locker: ChildProcess | undefined

  beforeAll(() => database.create())

  afterEach(async () => {
    locker?.kill('SIGKILL')
    await closeApps()
    expect(failures.splice(0)).toEqual([])
  })

  afterAll(() => database.drop())

  it('serves every request while another process holds the write lock, then writes every count exactly once', async () => {
    const a = await app(database.url())
    const before = await send(a, 20)
    await a.status.flush()

    const HOLD_MS = 3_000
    locker = fork(LOCKER, [database.file!, String(HOLD_MS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const exited = once(locker, 'exit')
    expect((await once(locker, 'message'))[0]).toBe('locked')
    const lockedAt = performance.now()
    // the lock is real: another writer is refused
    const probe = new Database(database.file!, { timeout: 0 })
    try {
      expect(() => probe.exec('BEGIN IMMEDIATE')).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }))
    } finally {
      probe.close()
    }

    const during: number[] = []
    const pages: number[] = []
    const stalls = monitorEventLoopDelay({ resolution: 10 })
    stalls.enable()
    // requests back to back, so one is always waiting when the app stalls
    while (performance.now() - lockedAt < HOLD_MS - 500) {
      const [times, shown] = await Promise.all([send(a, 5), page(a)])
      during.push(...times)
      expect(shown.status).toBe(200)
      pages.push(shown.ms)
    }
    stalls.disable()
    expect(await exited).toEqual([0, null])

    await flushUntilWritten(a, 15_000)
    expect(await stored(database, a)).toEqual({ days: a.sent, minutes: a.sent })
    const after = await report(a)
    expect(countsIn(after.report)).toEqual(a.sent)
    expect(after.report.storageUnavailableSince).toBeNull()
    // at most one outage, logged once
    expect(errors(a).filter((line) => !/storage unavailable \(/.test(line))).toEqual([])
    expect(errors(a).length).toBeLessThanOrEqual(1)

    // the app never waits for the lock
    expect(Math.max(...during)).toBeLessThan(SLOW_MS)
    expect(median(during)).toBeLessThan(median(before) * 3 + 20)
    expect(Math.max(...pages)).toBeLessThan(2_000)
    expect(stalls.max / 1e6).toBeLessThan(SLOW_MS)
  })
})
