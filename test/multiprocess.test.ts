// Four app processes on one PostgreSQL or MariaDB database: every instance shows exactly the total sent.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseName } from './support.js'

const INSTANCE = resolve(import.meta.dirname, 'fixtures', 'instance.mjs')
const INSTANCES = 4
const REQUESTS = 2_400
const WEIGHTS = [1, 2, 3, 4]
const CODES = [200, 201, 301, 404, 500, 503, 429, 401]
const OUTCOME: Record<number, 'success' | 'failure' | 'ignored'> = {
  200: 'success', 201: 'success', 301: 'success', 404: 'failure', 500: 'failure', 503: 'failure', 429: 'ignored', 401: 'ignored',
}

interface Database {
  name: string
  create(): Promise<string>
  drop(): Promise<void>
}

function postgres(): Database {
  const name = databaseName()
  const admin = () => new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  return {
    name: 'PostgreSQL',
    async create() {
      const client = admin()
      await client.connect()
      await client.query(`create database ${name}`)
      await client.end()
      return `postgres://postgres@127.0.0.1:5432/${name}`
    },
    async drop() {
      const client = admin()
      await client.connect()
      await client.query(`drop database if exists ${name} with (force)`)
      await client.end()
    },
  }
}

function mariadb(): Database {
  const name = databaseName()
  const admin = () => mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' })
  return {
    name: 'MariaDB',
    async create() {
      const connection = await admin()
      await connection.query(`create database ${name}`)
      await connection.end()
      return `mysql://root@127.0.0.1:3306/${name}`
    },
    async drop() {
      const connection = await admin()
      await connection.query(`drop database if exists ${name}`)
      await connection.end()
    },
  }
}

/** A small deterministic generator, so a failing run can be repeated. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

interface Instance {
  child: ChildProcess
  url: string
  flush(): Promise<void>
}

async function start(databaseUrl: string): Promise<Instance> {
  const child = fork(INSTANCE, [], { env: { ...process.env, DATABASE_URL: databaseUrl, FLUSH_MS: '250' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [message] = (await once(child, 'message')) as [{ port: number }]
  // one listener for all answers: several can arrive in one read of the IPC channel
  const waiting = new Map<number, { resolve(): void; reject(error: Error): void }>()
  child.on('message', (answer: { flushed?: number; error?: string }) => {
    const waiter = answer.flushed === undefined ? undefined : waiting.get(answer.flushed)
    if (waiter === undefined) return
    waiting.delete(answer.flushed!)
    if (answer.error) waiter.reject(new Error(answer.error))
    else waiter.resolve()
  })
  let next = 0
  const flush = () =>
    new Promise<void>((resolve, reject) => {
      const id = next++
      waiting.set(id, { resolve, reject })
      child.send({ cmd: 'flush', id })
    })
  return { child, url: `http://127.0.0.1:${message.port}`, flush }
}

for (const database of [postgres(), mariadb()]) {
  describe(`four instances on one ${database.name} database`, () => {
    let instances: Instance[] = []

    beforeAll(async () => {
      const url = await database.create()
      // all four start at once on an empty database: their migrations race
      instances = await Promise.all(Array.from({ length: INSTANCES }, () => start(url)))
    })

    afterAll(async () => {
      await Promise.all(
        instances.map(async (instance) => {
          if (instance.child.exitCode !== null) return
          const exited = once(instance.child, 'exit')
          instance.child.send({ cmd: 'close' })
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
          instance.child.kill('SIGKILL')
        }),
      )
      await database.drop()
    })

    it('shows on every instance exactly the requests sent to all of them, per route and class', async () => {
      const next = random(database.name.length * 7919)
      const expected = new Map<string, { success: number; failure: number; ignored: number }>()
      for (const rule of ['/a', '/b/:id', '/c']) expected.set(rule, { success: 0, failure: 0, ignored: 0 })
      const total = WEIGHTS.reduce((a, b) => a + b, 0)
      const pick = () => {
        let r = next() * total
        return WEIGHTS.findIndex((w) => (r -= w) < 0)
      }

      const plan = Array.from({ length: REQUESTS }, () => {
        const instance = pick()
        const code = CODES[Math.floor(next() * CODES.length)]!
        const kind = Math.floor(next() * 3)
        const rule = ['/a', '/b/:id', '/c'][kind]!
        expected.get(rule)![OUTCOME[code]!]++
        const path = kind === 0 ? '/a' : kind === 1 ? `/b/${Math.floor(next() * 1e6)}` : '/c'
        return { instance, code, path, method: kind === 2 ? 'POST' : 'GET', flushAfter: next() < 0.01 }
      })

      let cursor = 0
      const sent: number[] = []
      const flushes: Promise<void>[] = []
      const worker = async () => {
        while (cursor < plan.length) {
          const step = plan[cursor++]!
          const res = await fetch(`${instances[step.instance]!.url}${step.path}?code=${step.code}`, { method: step.method, redirect: 'manual' })
          await res.arrayBuffer()
          sent.push(res.status)
          // flushes at moments the plan picked, on a random instance, while traffic goes on
          if (step.flushAfter) flushes.push(instances[Math.floor(next() * INSTANCES)]!.flush())
        }
      }
      await Promise.all(Array.from({ length: 32 }, worker))
      await Promise.all(flushes)
      expect(sent.length).toBe(REQUESTS)
      expect(sent.filter((s) => s !== 0).length).toBe(REQUESTS)

      // once every instance has written its last counts, each one reads the same totals
      await Promise.all(instances.map((instance) => instance.flush()))
      for (const instance of instances) {
        const report = (await (await fetch(`${instance.url}/status/api/routes`)).json()) as {
          routes: Array<{ rule: string; success: number; failure: number; ignored: number }>
          unmatched: number
        }
        const got = Object.fromEntries(report.routes.map((r) => [r.rule, { success: r.success, failure: r.failure, ignored: r.ignored }]))
        expect(got).toEqual(Object.fromEntries(expected))
        expect(report.unmatched).toBe(0)
      }
      const sum = [...expected.values()].reduce((n, c) => n + c.success + c.failure + c.ignored, 0)
      expect(sum).toBe(REQUESTS)
    })
  })
}
