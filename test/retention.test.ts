// Retention: minute rows older than minuteRetentionDays and day rows older than dayRetentionDays are deleted.
import Database from 'better-sqlite3'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { serverStatus } from '../src/express/index.js'
import { createStore } from '../src/store/index.js'
import { addDays } from '../src/time.js'
import { hit, listen, tempSqlite } from './support.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

const DAY_MINUTES = 1440

describe('retention', () => {
  it('deletes minute and day rows past their retention at a flush, and keeps the newer ones', async () => {
    const db = tempSqlite()
    cleanups.push(() => db.cleanup())
    const now = Date.now()
    const minute = Math.floor(now / 60_000)
    const today = new Date(now).toISOString().slice(0, 10)
    const row = (m: number, day: string) => ({ rule: '/', minute: m, day, success: 1, failure: 0, ignored: 0, durationMs: 1 })

    const store = await createStore(db.url, { tablePrefix: 'server_status_' })
    await store.init()
    await store.write([
      row(minute - 3 * DAY_MINUTES - 10, addDays(today, -3)), // minute row too old for 3 days, day row kept
      row(minute - 2 * DAY_MINUTES, addDays(today, -2)), // kept
      row(minute - 20 * DAY_MINUTES, addDays(today, -11)), // day row too old for 10 days
    ])
    await store.close()

    const app = express()
    const status = serverStatus(app, { database: db.url, minuteRetentionDays: 3, dayRetentionDays: 10, logger: false })
    app.get('/', (_req, res) => res.send('ok'))
    const running = await listen(app)
    cleanups.push(() => running.close(), () => status.close())
    await hit(`${running.url}/`, 1)
    await status.flush()
    await status.close()

    const sqlite = new Database(db.path, { readonly: true })
    try {
      const minutes = sqlite.prepare("select minute from server_status_minutes where rule = '/' order by minute").all() as Array<{ minute: number }>
      const days = sqlite.prepare("select day from server_status_days where rule = '/' order by day").all() as Array<{ day: string }>
      // the row of 3 days and 10 minutes ago is gone; the one of 2 days ago and the new request's stay
      const ages = minutes.map((r) => minute - Number(r.minute))
      expect(ages).toHaveLength(2)
      expect(ages[0]).toBe(2 * DAY_MINUTES)
      expect(ages[1]).toBeLessThanOrEqual(0)
      expect(ages[1]).toBeGreaterThanOrEqual(-1)
      expect(days.map((r) => r.day)).toEqual([addDays(today, -3), addDays(today, -2), today])
    } finally {
      sqlite.close()
    }
  })
})
