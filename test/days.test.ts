// Days in America/New_York: local midnight, the 23- and 25-hour days of DST, and the report's days, pure and through SQLite.

import { request } from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import { Bucket } from '../src/recorder.js'
import { buildReport, type ShownRoute } from '../src/report.js'
import { addDays, DayClock } from '../src/time.js'
import type { DayReport, StatusReport } from '../src/types.js'
import { EXPRESSES, listen, tempSqlite } from './support.js'

const NY = 'America/New_York'
const MINUTE = 60_000

function minuteAt(iso: string): number {
  const ms = Date.parse(iso)
  expect(Number.isNaN(ms)).toBe(false)
  return Math.floor(ms / MINUTE)
}

function bucket(rule: string, iso: string, success: number, failure = 0, ignored = 0): Bucket {
  const b = new Bucket(rule, minuteAt(iso))
  b.success = success
  b.failure = failure
  b.ignored = ignored
  return b
}

/** Number of minutes in [fromIso, toIso) that the clock puts on each local date. */
function minutesPerDay(clock: DayClock, fromIso: string, toIso: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (let m = minuteAt(fromIso); m < minuteAt(toIso); m++) {
    const day = clock.dayOfMinute(m)
    out[day] = (out[day] ?? 0) + 1
  }
  return out
}

const ROUTES: ShownRoute[] = [{ rule: '/a', name: 'A', doc: '' }]

function report(nowIso: string, days: number, pending: Bucket[], timeZone = NY): StatusReport {
  return buildReport({
    now: Date.parse(nowIso),
    clock: new DayClock(timeZone),
    days,
    routes: ROUTES,
    dayRows: [],
    minuteRows: [],
    pending,
  })
}

function byDate(days: readonly DayReport[]): Record<string, number> {
  return Object.fromEntries(days.filter((d) => d.success + d.failure + d.ignored > 0).map((d) => [d.date, d.success + d.failure + d.ignored]))
}

describe('DayClock in America/New_York', () => {
  const clock = new DayClock(NY)

  it.each([
    // winter, UTC-5: local midnight is 05:00 UTC
    ['2026-01-15T04:59:00Z', '2026-01-14'],
    ['2026-01-15T04:59:59.999Z', '2026-01-14'],
    ['2026-01-15T05:00:00Z', '2026-01-15'],
    // summer, UTC-4: local midnight is 04:00 UTC
    ['2026-07-01T03:59:00Z', '2026-06-30'],
    ['2026-07-01T04:00:00Z', '2026-07-01'],
    // the spring-forward day: starts at 05:00 UTC (EST), the next starts at 04:00 UTC (EDT)
    ['2026-03-08T04:59:00Z', '2026-03-07'],
    ['2026-03-08T05:00:00Z', '2026-03-08'],
    ['2026-03-08T06:59:00Z', '2026-03-08'],
    ['2026-03-08T07:00:00Z', '2026-03-08'],
    ['2026-03-09T03:59:00Z', '2026-03-08'],
    ['2026-03-09T04:00:00Z', '2026-03-09'],
    // the fall-back day: starts at 04:00 UTC (EDT), the next starts at 05:00 UTC (EST)
    ['2026-11-01T03:59:00Z', '2026-10-31'],
    ['2026-11-01T04:00:00Z', '2026-11-01'],
    ['2026-11-01T05:30:00Z', '2026-11-01'],
    ['2026-11-01T06:30:00Z', '2026-11-01'],
    ['2026-11-02T04:59:00Z', '2026-11-01'],
    ['2026-11-02T05:00:00Z', '2026-11-02'],
    // New Year in New York comes five hours after UTC's
    ['2027-01-01T04:59:00Z', '2026-12-31'],
    ['2027-01-01T05:00:00Z', '2027-01-01'],
  ])('puts %s on %s', (iso, date) => {
    expect(clock.dayOf(Date.parse(iso))).toBe(date)
    expect(clock.dayOfMinute(Math.floor(Date.parse(iso) / MINUTE))).toBe(date)
  })

  it('gives 2026-03-08 23 hours, and the days around it 24', () => {
    expect(minutesPerDay(clock, '2026-03-07T05:00:00Z', '2026-03-10T04:00:00Z')).toEqual({
      '2026-03-07': 24 * 60,
      '2026-03-08': 23 * 60,
      '2026-03-09': 24 * 60,
    })
  })

  it('gives 2026-11-01 25 hours, and the days around it 24', () => {
    expect(minutesPerDay(clock, '2026-10-31T04:00:00Z', '2026-11-03T05:00:00Z')).toEqual({
      '2026-10-31': 24 * 60,
      '2026-11-01': 25 * 60,
      '2026-11-02': 24 * 60,
    })
  })

  it('keeps minutes apart from the cache of another zone', () => {
    const utc = new DayClock('UTC')
    const m = minuteAt('2026-01-15T03:00:00Z')
    expect(utc.dayOfMinute(m)).toBe('2026-01-15')
    expect(clock.dayOfMinute(m)).toBe('2026-01-14')
  })
})

describe('addDays', () => {
  it.each([
    ['2026-03-08', 1, '2026-03-09'],
    ['2026-03-09', -1, '2026-03-08'],
    ['2026-11-01', 1, '2026-11-02'],
    ['2026-03-01', -1, '2026-02-28'],
    ['2028-03-01', -1, '2028-02-29'],
    ['2026-12-31', 1, '2027-01-01'],
    ['2026-12-04', -29, '2026-11-05'],
  ])('moves %s by %i to %s', (day, n, expected) => {
    expect(addDays(day, n)).toBe(expected)
  })
})

describe('report days in America/New_York (pure)', () => {
  it('puts requests at 04:59 and 05:00 UTC in winter on different local dates', () => {
    const r = report('2026-01-15T12:00:00Z', 3, [
      bucket('/a', '2026-01-15T04:58:00Z', 1),
      bucket('/a', '2026-01-15T04:59:00Z', 2),
      bucket('/a', '2026-01-15T05:00:00Z', 4),
      bucket('/a', '2026-01-15T05:01:00Z', 8),
    ])
    const days = r.routes[0]!.days
    expect(days.map((d) => d.date)).toEqual(['2026-01-13', '2026-01-14', '2026-01-15'])
    expect(byDate(days)).toEqual({ '2026-01-14': 3, '2026-01-15': 12 })
    expect(r.timeZone).toBe(NY)
  })

  it('counts the whole 23-hour spring-forward day, and nothing of the days around it', () => {
    const r = report('2026-03-09T16:00:00Z', 3, [
      bucket('/a', '2026-03-07T04:59:00Z', 1000), // 2026-03-06 23:59 EST: before the 3 days shown
      bucket('/a', '2026-03-08T04:59:00Z', 1), // 2026-03-07 23:59 EST
      bucket('/a', '2026-03-08T05:00:00Z', 2), // 2026-03-08 00:00 EST
      bucket('/a', '2026-03-08T06:59:00Z', 4), // 01:59 EST, the last minute before the jump
      bucket('/a', '2026-03-08T07:00:00Z', 8), // 03:00 EDT
      bucket('/a', '2026-03-09T03:59:00Z', 16), // 2026-03-08 23:59 EDT
      bucket('/a', '2026-03-09T04:00:00Z', 32), // 2026-03-09 00:00 EDT
    ])
    const route = r.routes[0]!
    expect(route.days.map((d) => d.date)).toEqual(['2026-03-07', '2026-03-08', '2026-03-09'])
    expect(byDate(route.days)).toEqual({ '2026-03-07': 1, '2026-03-08': 2 + 4 + 8 + 16, '2026-03-09': 32 })
    expect(route.success).toBe(1 + 2 + 4 + 8 + 16 + 32)
  })

  it('counts the whole 25-hour fall-back day, both 01:30s included', () => {
    const r = report('2026-11-02T16:00:00Z', 4, [
      bucket('/a', '2026-11-01T03:59:00Z', 1), // 2026-10-31 23:59 EDT
      bucket('/a', '2026-11-01T04:00:00Z', 2), // 2026-11-01 00:00 EDT
      bucket('/a', '2026-11-01T05:30:00Z', 4, 1), // 01:30 EDT
      bucket('/a', '2026-11-01T06:30:00Z', 8, 0, 3), // 01:30 EST
      bucket('/a', '2026-11-02T04:59:00Z', 16), // 2026-11-01 23:59 EST
      bucket('/a', '2026-11-02T05:00:00Z', 32), // 2026-11-02 00:00 EST
    ])
    const days = r.routes[0]!.days
    expect(days.map((d) => d.date)).toEqual(['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02'])
    expect(days[2]).toEqual({ date: '2026-11-01', success: 2 + 4 + 8 + 16, failure: 1, ignored: 3, uptime: 30 / 31, status: 'partial_outage' })
    expect(byDate(days)).toEqual({ '2026-10-31': 1, '2026-11-01': 34, '2026-11-02': 32 })
  })

  it('leaves out a request a minute before the first shown local day', () => {
    const r = report('2026-01-17T12:00:00Z', 3, [
      bucket('/a', '2026-01-15T04:59:00Z', 5), // 2026-01-14 23:59 EST
      bucket('/a', '2026-01-15T05:00:00Z', 7), // 2026-01-15 00:00 EST, the first shown day
    ])
    const route = r.routes[0]!
    expect(route.days.map((d) => d.date)).toEqual(['2026-01-15', '2026-01-16', '2026-01-17'])
    expect(route.success).toBe(7)
    expect(byDate(route.days)).toEqual({ '2026-01-15': 7 })
  })

  it.each([
    // late evening in New York is already tomorrow in UTC
    ['2026-03-09T03:30:00Z', 7, '2026-03-08'],
    ['2026-01-15T04:59:00Z', 30, '2026-01-14'],
    ['2026-01-15T05:00:00Z', 30, '2026-01-15'],
    ['2026-11-02T04:30:00Z', 3, '2026-11-01'],
    ['2027-01-01T04:00:00Z', 365, '2026-12-31'],
    ['2026-03-08T12:00:00Z', 1, '2026-03-08'],
  ])('at %s shows exactly %i days ending on %s', (nowIso, n, today) => {
    const r = report(nowIso, n, [])
    const dates = r.routes[0]!.days.map((d) => d.date)
    expect(dates).toHaveLength(n)
    expect(dates.at(-1)).toBe(today)
    expect(r.days).toBe(n)
    // consecutive calendar dates, none doubled or skipped across the DST changes
    for (let i = 1; i < dates.length; i++) {
      const gap = Date.parse(`${dates[i]}T00:00:00Z`) - Date.parse(`${dates[i - 1]}T00:00:00Z`)
      expect(gap, `${dates[i - 1]} → ${dates[i]}`).toBe(86_400_000)
    }
  })

  it('puts the same requests on other dates in UTC', () => {
    const pending = [bucket('/a', '2026-01-15T04:59:00Z', 2), bucket('/a', '2026-01-15T05:00:00Z', 4)]
    expect(byDate(report('2026-01-15T12:00:00Z', 3, pending, 'UTC').routes[0]!.days)).toEqual({ '2026-01-15': 6 })
    expect(byDate(report('2026-01-15T12:00:00Z', 3, pending, NY).routes[0]!.days)).toEqual({ '2026-01-14': 2, '2026-01-15': 4 })
  })

  it('takes the current status over the last 15 minutes across local midnight', () => {
    const r = report('2026-01-15T05:05:00Z', 2, [
      bucket('/a', '2026-01-15T04:55:00Z', 0, 3), // yesterday in New York, within the 15 minutes
      bucket('/a', '2026-01-15T05:02:00Z', 1), // today
    ])
    const route = r.routes[0]!
    expect(route.status).toBe('major_outage')
    expect(route.days.at(-1)).toMatchObject({ date: '2026-01-15', success: 1, failure: 0, status: 'operational' })
    expect(route.days.at(-2)).toMatchObject({ date: '2026-01-14', success: 0, failure: 3, status: 'major_outage' })
  })
})

/** A GET on a fresh connection, so no keep-alive timer of the client runs across a clock jump. */
function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('days in America/New_York through SQLite', () => {
  const { express } = EXPRESSES[1]

  afterEach(() => {
    vi.useRealTimers()
  })

  async function startApp(database: string, days: number) {
    const app = express()
    const status = serverStatus(app, { database, timeZone: NY, days, logger: false })
    app.get('/a', (_req, res) => void res.send('a'))
    app.get('/b', (_req, res) => void res.status(503).send('b'))
    const server = await listen(app)
    return {
      status,
      server,
      close: async () => {
        await status.close()
        await server.close()
      },
    }
  }

  /** Sends `n` requests to `path` with the clock at `iso`, then writes them. */
  async function at(app: Awaited<ReturnType<typeof startApp>>, iso: string, path: string, n: number): Promise<void> {
    vi.setSystemTime(new Date(iso))
    for (let i = 0; i < n; i++) await get(`${app.server.url}${path}`)
    await app.status.flush()
  }

  it('stores minutes around midnight in New York on the local dates, read back later', async () => {
    const db = tempSqlite()
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const app = await startApp(db.url, 3)
      await at(app, '2026-01-15T04:58:30Z', '/a', 3) // 2026-01-14 23:58 EST
      await at(app, '2026-01-15T04:59:59Z', '/a', 5) // 2026-01-14 23:59 EST
      await at(app, '2026-01-15T05:00:00Z', '/a', 7) // 2026-01-15 00:00 EST
      await at(app, '2026-01-15T05:01:00Z', '/b', 2) // 2026-01-15 00:01 EST
      await at(app, '2026-01-16T04:59:00Z', '/a', 11) // 2026-01-15 23:59 EST
      await app.close()

      vi.setSystemTime(new Date('2026-01-16T15:00:00Z'))
      const later = await startApp(db.url, 3)
      try {
        const res = await fetch(`${later.server.url}/status/api/routes`)
        const r = (await res.json()) as StatusReport
        expect(r.timeZone).toBe(NY)
        expect(r.generatedAt).toBe('2026-01-16T15:00:00.000Z')
        const a = r.routes.find((route) => route.rule === '/a')!
        const b = r.routes.find((route) => route.rule === '/b')!
        expect(a.days.map((d) => d.date)).toEqual(['2026-01-14', '2026-01-15', '2026-01-16'])
        expect(a.days.map((d) => d.success)).toEqual([8, 18, 0])
        expect(b.days.map((d) => d.failure)).toEqual([0, 2, 0])
        expect(a.days[2]!.status).toBe('no_data')
        expect(a.success).toBe(26)
      } finally {
        await later.close()
      }
    } finally {
      db.cleanup()
    }
  })

  it('stores the 25-hour fall-back day as one day and the days around it apart', async () => {
    const db = tempSqlite()
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const app = await startApp(db.url, 4)
      await at(app, '2026-11-01T03:59:00Z', '/a', 1) // 2026-10-31 23:59 EDT
      await at(app, '2026-11-01T04:00:00Z', '/a', 2) // 2026-11-01 00:00 EDT
      await at(app, '2026-11-01T05:30:00Z', '/a', 3) // 01:30 EDT
      await at(app, '2026-11-01T06:30:00Z', '/a', 4) // 01:30 EST
      await at(app, '2026-11-02T04:59:00Z', '/a', 5) // 2026-11-01 23:59 EST
      await at(app, '2026-11-02T05:00:00Z', '/a', 6) // 2026-11-02 00:00 EST
      await app.close()

      vi.setSystemTime(new Date('2026-11-03T12:00:00Z'))
      const later = await startApp(db.url, 4)
      try {
        const r = await later.status.report()
        const a = r.routes.find((route) => route.rule === '/a')!
        expect(a.days.map((d) => [d.date, d.success])).toEqual([
          ['2026-10-31', 1],
          ['2026-11-01', 2 + 3 + 4 + 5],
          ['2026-11-02', 6],
          ['2026-11-03', 0],
        ])
      } finally {
        await later.close()
      }
    } finally {
      db.cleanup()
    }
  })

  it('stores the 23-hour spring-forward day as one day', async () => {
    const db = tempSqlite()
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const app = await startApp(db.url, 3)
      await at(app, '2026-03-08T04:59:00Z', '/a', 1) // 2026-03-07 23:59 EST
      await at(app, '2026-03-08T05:00:00Z', '/a', 2) // 2026-03-08 00:00 EST
      await at(app, '2026-03-08T06:59:00Z', '/a', 3) // 01:59 EST
      await at(app, '2026-03-08T07:00:00Z', '/a', 4) // 03:00 EDT
      await at(app, '2026-03-09T03:59:00Z', '/a', 5) // 2026-03-08 23:59 EDT
      await at(app, '2026-03-09T04:00:00Z', '/a', 6) // 2026-03-09 00:00 EDT
      // still the 9th in New York, already the 10th in UTC
      vi.setSystemTime(new Date('2026-03-10T03:30:00Z'))
      const r = await app.status.report()
      const a = r.routes.find((route) => route.rule === '/a')!
      expect(a.days.map((d) => [d.date, d.success])).toEqual([
        ['2026-03-07', 1],
        ['2026-03-08', 2 + 3 + 4 + 5],
        ['2026-03-09', 6],
      ])
      await app.close()
    } finally {
      db.cleanup()
    }
  })
})
