// The system clock jumps an hour back and forth between flushes: no count is lost or counted twice.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { countsIn, report, RULE, send, startApp, type TestApp } from './fixtures/outage-app.js'
import { mariadb, postgres, sqlite, total, type Counts } from './fixtures/outage-databases.js'

const MINUTE = 60_000
const HOUR = 3_600_000
const NONE: Counts = { success: 0, failure: 0, ignored: 0 }

function plus(a: Counts, b: Counts): Counts {
  return { success: a.success + b.success, failure: a.failure + b.failure, ignored: a.ignored + b.ignored }
}

function minus(a: Counts, b: Counts): Counts {
  return { success: a.success - b.success, failure: a.failure - b.failure, ignored: a.ignored - b.ignored }
}

for (const database of [sqlite(), postgres(), mariadb()]) {
  describe(`a clock that jumps, on ${database.name}`, () => {
    let app: TestApp | undefined

    beforeAll(() => database.create())

    afterEach(async () => {
      vi.useRealTimers()
      await app?.close()
      app = undefined
    })

    afterAll(() => database.drop())

    it('neither loses nor duplicates counts when the clock goes back and forth by an hour', async () => {
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(new Date('2026-03-10T23:30:00Z'))
      const a = (app = await startApp(database.url(), { flushIntervalMs: HOUR }))

      const byDay = new Map<string, Counts>()
      const byMinute = new Map<number, number>()
      /** Sends `count` requests at `iso`, and books them on its day and minute. */
      const at = async (iso: string, count: number) => {
        vi.setSystemTime(new Date(iso))
        const before = { ...a.sent }
        await send(a, count)
        const added = minus(a.sent, before)
        byDay.set(iso.slice(0, 10), plus(byDay.get(iso.slice(0, 10)) ?? NONE, added))
        const minute = Math.floor(Date.parse(iso) / MINUTE)
        byMinute.set(minute, (byMinute.get(minute) ?? 0) + count)
      }
      /** The database's rows, and the report's days, against what was sent. */
      const check = async (shownDays: string[]) => {
        const minutes = await database.minutes(a.tablePrefix, RULE)
        const days = await database.days(a.tablePrefix, RULE)
        expect(minutes.map((m) => [m.minute, m.success + m.failure + m.ignored])).toEqual(
          [...byMinute.entries()].sort((x, y) => x[0] - y[0]),
        )
        expect(days.map(({ day, ...counts }) => [day, counts])).toEqual([...byDay.entries()].sort((x, y) => x[0].localeCompare(y[0])))
        expect(total(minutes)).toEqual(a.sent)
        expect(total(days)).toEqual(a.sent)
        const shown = (await report(a)).report
        const route = shown.routes.find((r) => r.rule === RULE)!
        const expected = shownDays.map((day) => [day, byDay.get(day) ?? NONE])
        const got = route.days
          .filter((d) => shownDays.includes(d.date))
          .map((d) => [d.date, { success: d.success, failure: d.failure, ignored: d.ignored }])
        expect(got).toEqual(expected)
        expect(countsIn(shown)).toEqual(shownDays.reduce((sum, day) => plus(sum, byDay.get(day) ?? NONE), NONE))
      }

      await at('2026-03-10T23:30:00Z', 5)
      await a.status.flush()
      await check(['2026-03-10'])

      // back an hour, same day
      await at('2026-03-10T22:30:00Z', 7)
      await a.status.flush()
      await check(['2026-03-10'])

      // forward past midnight, back to a minute already written, forward to a minute of this batch
      await at('2026-03-11T00:30:10Z', 4)
      await at('2026-03-10T23:30:10Z', 3)
      await at('2026-03-11T00:30:20Z', 2)
      expect(countsIn((await report(a)).report)).toEqual(a.sent)
      await a.status.flush()
      await check(['2026-03-10', '2026-03-11'])

      // back before midnight: the day after is in the future, not shown, and not lost
      await at('2026-03-10T23:35:00Z', 1)
      const before = (await report(a)).report
      expect(before.routes.find((r) => r.rule === RULE)!.days.at(-1)).toMatchObject({ date: '2026-03-10', ...byDay.get('2026-03-10') })
      await a.status.flush()
      await check(['2026-03-10'])

      // forward again: everything shows once
      await at('2026-03-11T00:36:00Z', 2)
      await a.status.flush()
      await check(['2026-03-10', '2026-03-11'])
      expect(countsIn((await report(a)).report)).toEqual(a.sent)
      expect(a.sent.success + a.sent.failure + a.sent.ignored).toBe(24)
      expect(a.logger.lines.filter((line) => line.startsWith('error:'))).toEqual([])
    })
  })
}
