// Classification of responses: the default table over real HTTP on Express 4 and 5, custom rules, and the pure helpers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultClassify, statusOf, uptimeOf, worstStatus } from '../src/classify.js'
import { serverStatus } from '../src/express/index.js'
import type { Outcome, StatusHandle, StatusReport } from '../src/types.js'
import { countsOf, EXPRESSES, listen, memoryLogger, routeOf, tempSqlite, type Counts, type Running } from './support.js'

const SUCCESS: Counts = { success: 1, failure: 0, ignored: 0 }
const FAILURE: Counts = { success: 0, failure: 1, ignored: 0 }
const IGNORED: Counts = { success: 0, failure: 0, ignored: 1 }

/** Every code answered through HTTP and how the default rule counts it. */
const TABLE: Array<[number, Counts]> = [
  [200, SUCCESS],
  [201, SUCCESS],
  [204, SUCCESS],
  [301, SUCCESS],
  [302, SUCCESS],
  [304, SUCCESS],
  [400, IGNORED],
  [401, IGNORED],
  [403, IGNORED],
  [404, FAILURE],
  [429, IGNORED],
  [500, FAILURE],
  [501, IGNORED],
  [502, FAILURE],
  [503, FAILURE],
  [504, FAILURE],
]

async function readJson(base: string): Promise<StatusReport> {
  const res = await fetch(`${base}/status/api/routes`)
  expect(res.status).toBe(200)
  return (await res.json()) as StatusReport
}

for (const { name, express } of EXPRESSES) {
  const major = name === 'Express 5' ? 5 : 4

  describe(`default classification through HTTP on ${name}`, () => {
    const db = tempSqlite()
    let status: StatusHandle
    let server: Running

    beforeAll(async () => {
      const app = express()
      status = serverStatus(app, { database: db.url, logger: memoryLogger() })
      for (const [code] of TABLE) {
        app.get(`/code/${code}`, (_req, res) => {
          res.status(code).end()
        })
      }
      app.get('/throws', () => {
        throw new Error('boom')
      })
      app.get('/throws-handled', () => {
        throw new Error('boom')
      })
      if (major === 5) {
        app.get('/rejects', async () => {
          await Promise.resolve()
          throw new Error('async boom')
        })
      } else {
        app.get('/rejects', async (_req, _res, next) => {
          try {
            await Promise.resolve()
            throw new Error('async boom')
          } catch (error) {
            next(error)
          }
        })
      }
      app.get('/next-error', (_req, _res, next) => {
        next(new Error('passed on'))
      })
      // an error handler that answers with a code the rule would ignore, or even call success
      app.use((error: Error, req: { path: string }, res: { status(code: number): { json(v: unknown): void } }, next: (e?: unknown) => void) => {
        if (req.path === '/throws-handled') {
          res.status(200).json({ handled: error.message })
          return
        }
        next(error)
      })
      server = await listen(app)
    })

    afterAll(async () => {
      await status.close()
      await server.close()
      db.cleanup()
    })

    for (const [code, expected] of TABLE) {
      const label = expected === SUCCESS ? 'success' : expected === FAILURE ? 'failure' : 'ignored'
      it(`counts a ${code} response as ${label}`, async () => {
        const res = await fetch(`${server.url}/code/${code}`, { redirect: 'manual' })
        await res.arrayBuffer()
        expect(res.status).toBe(code)
        const report = await readJson(server.url)
        expect(countsOf(routeOf(report, `/code/${code}`))).toEqual(expected)
      })
    }

    it('counts a handler that throws synchronously as a failure', async () => {
      const res = await fetch(`${server.url}/throws`)
      await res.arrayBuffer()
      expect(res.status).toBe(500)
      expect(countsOf(routeOf(await readJson(server.url), '/throws'))).toEqual(FAILURE)
    })

    it('counts a thrown error as a failure even when an error handler answers 200', async () => {
      const res = await fetch(`${server.url}/throws-handled`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ handled: 'boom' })
      expect(countsOf(routeOf(await readJson(server.url), '/throws-handled'))).toEqual(FAILURE)
    })

    it(
      major === 5 ? 'counts an async handler that rejects as a failure' : 'counts an async handler that calls next(err) as a failure',
      async () => {
        const res = await fetch(`${server.url}/rejects`)
        await res.arrayBuffer()
        expect(res.status).toBe(500)
        expect(countsOf(routeOf(await readJson(server.url), '/rejects'))).toEqual(FAILURE)
      },
    )

    it('counts a handler that passes an error to next() as a failure', async () => {
      const res = await fetch(`${server.url}/next-error`)
      await res.arrayBuffer()
      expect(res.status).toBe(500)
      expect(countsOf(routeOf(await readJson(server.url), '/next-error'))).toEqual(FAILURE)
    })

    it('keeps the counts of the whole table after a flush', async () => {
      await status.flush()
      const report = await readJson(server.url)
      for (const [code, expected] of TABLE) {
        expect(countsOf(routeOf(report, `/code/${code}`)), `code ${code}`).toEqual(expected)
      }
    })
  })

  describe(`custom classify on ${name}`, () => {
    const db = tempSqlite()
    const logger = memoryLogger()
    let status: StatusHandle
    let server: Running
    let calls: number[] = []

    beforeAll(async () => {
      const app = express()
      status = serverStatus(app, {
        database: db.url,
        logger,
        classify: (code: number): Outcome => {
          calls.push(code)
          if (code === 418) return 'failure'
          if (code === 404) return 'ignore'
          return 'success'
        },
      })
      for (const code of [200, 404, 418, 500]) {
        app.get(`/code/${code}`, (_req, res) => {
          res.status(code).send(`code ${code}`)
        })
      }
      app.get('/throws', () => {
        throw new Error('boom')
      })
      server = await listen(app)
    })

    afterAll(async () => {
      await status.close()
      await server.close()
      db.cleanup()
    })

    it('counts by the classify option instead of the default rule', async () => {
      calls = []
      for (const code of [200, 404, 418, 500]) {
        const res = await fetch(`${server.url}/code/${code}`)
        expect(res.status).toBe(code)
        expect(await res.text()).toBe(`code ${code}`)
      }
      const report = await readJson(server.url)
      expect(countsOf(routeOf(report, '/code/200'))).toEqual(SUCCESS)
      expect(countsOf(routeOf(report, '/code/404'))).toEqual(IGNORED)
      expect(countsOf(routeOf(report, '/code/418'))).toEqual(FAILURE)
      expect(countsOf(routeOf(report, '/code/500'))).toEqual(SUCCESS)
      expect(calls).toEqual([200, 404, 418, 500])
    })

    it('counts a thrown error as a failure whatever classify says of its code', async () => {
      const res = await fetch(`${server.url}/throws`)
      await res.arrayBuffer()
      expect(res.status).toBe(500)
      expect(countsOf(routeOf(await readJson(server.url), '/throws'))).toEqual(FAILURE)
    })
  })

  describe(`a classify that throws on ${name}`, () => {
    const db = tempSqlite()
    const logger = memoryLogger()
    let status: StatusHandle
    let server: Running

    beforeAll(async () => {
      const app = express()
      status = serverStatus(app, {
        database: db.url,
        logger,
        classify: () => {
          throw new Error('classify is broken')
        },
      })
      app.get('/hello', (_req, res) => {
        res.set('x-app', 'yes').status(201).json({ hello: 'world' })
      })
      server = await listen(app)
    })

    afterAll(async () => {
      await status.close()
      await server.close()
      db.cleanup()
    })

    it('does not break the response and counts the request as ignored', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${server.url}/hello`)
        expect(res.status).toBe(201)
        expect(res.headers.get('x-app')).toBe('yes')
        expect(await res.json()).toEqual({ hello: 'world' })
      }
      expect(countsOf(routeOf(await readJson(server.url), '/hello'))).toEqual({ success: 0, failure: 0, ignored: 3 })
      const logged = logger.lines.filter((line) => line.includes('classify'))
      expect(logged).toHaveLength(1)
      expect(logged[0]).toMatch(/^error: .*classify\(201\) threw.*classify is broken/)
    })
  })
}

describe('defaultClassify', () => {
  const table: Array<[number, Outcome]> = [
    [100, 'ignore'],
    [101, 'ignore'],
    [199, 'ignore'],
    [200, 'success'],
    [201, 'success'],
    [204, 'success'],
    [299, 'success'],
    [301, 'success'],
    [302, 'success'],
    [304, 'success'],
    [399, 'success'],
    [400, 'ignore'],
    [401, 'ignore'],
    [403, 'ignore'],
    [404, 'failure'],
    [405, 'ignore'],
    [429, 'ignore'],
    [499, 'ignore'],
    [500, 'failure'],
    [501, 'ignore'],
    [502, 'failure'],
    [503, 'failure'],
    [504, 'failure'],
    [505, 'ignore'],
    [599, 'ignore'],
  ]
  it.each(table)('classifies %i as %s', (code, outcome) => {
    expect(defaultClassify(code)).toBe(outcome)
  })
})

describe('uptimeOf', () => {
  it.each([
    [0, 0, null],
    [1, 0, 1],
    [0, 1, 0],
    [3, 2, 0.6],
    [999, 1, 0.999],
  ])('gives uptime of %i successes and %i failures as %s', (success, failure, uptime) => {
    expect(uptimeOf(success, failure)).toBe(uptime)
  })
})

describe('statusOf', () => {
  it.each([
    [null, 'no_data'],
    [1, 'operational'],
    [0.9999, 'partial_outage'],
    [0.5, 'partial_outage'],
    [0.3, 'partial_outage'],
    [0.2999, 'major_outage'],
    [0, 'major_outage'],
  ] as const)('gives uptime %s the status %s', (uptime, status) => {
    expect(statusOf(uptime)).toBe(status)
  })
})

describe('overall status', () => {
  it.each([
    [[], 'operational'],
    [['no_data'], 'operational'],
    [['no_data', 'operational'], 'operational'],
    [['operational', 'partial_outage', 'no_data'], 'partial_outage'],
    [['partial_outage', 'major_outage', 'operational'], 'major_outage'],
    [['no_data', 'major_outage'], 'major_outage'],
    [['major_outage', 'partial_outage'], 'major_outage'],
  ] as const)('takes the worst of %j, ignoring no_data, as %s', (statuses, overall) => {
    expect(worstStatus(statuses)).toBe(overall)
  })

  for (const { name, express } of EXPRESSES.slice(1)) {
    it(`is the worst route status in the JSON, ignoring routes with no data (${name})`, async () => {
      const db = tempSqlite()
      const app = express()
      const status = serverStatus(app, { database: db.url, logger: false })
      app.get('/fine', (_req, res) => void res.send('ok'))
      app.get('/idle', (_req, res) => void res.send('ok'))
      let failing = true
      app.get('/flaky', (_req, res) => void res.status(failing ? 503 : 200).end())
      const server = await listen(app)
      try {
        await (await fetch(`${server.url}/fine`)).arrayBuffer()
        let report = await readJson(server.url)
        expect(routeOf(report, '/idle').status).toBe('no_data')
        expect(routeOf(report, '/flaky').status).toBe('no_data')
        expect(report.status).toBe('operational')

        // 1 of 3 good: uptime 1/3 is a partial outage
        failing = false
        await (await fetch(`${server.url}/flaky`)).arrayBuffer()
        failing = true
        await (await fetch(`${server.url}/flaky`)).arrayBuffer()
        await (await fetch(`${server.url}/flaky`)).arrayBuffer()
        report = await readJson(server.url)
        expect(routeOf(report, '/flaky')).toMatchObject({ status: 'partial_outage', success: 1, failure: 2 })
        expect(routeOf(report, '/flaky').uptime).toBeCloseTo(1 / 3, 10)
        expect(report.status).toBe('partial_outage')

        // 1 of 4 good: below 0.3 is a major outage
        await (await fetch(`${server.url}/flaky`)).arrayBuffer()
        report = await readJson(server.url)
        expect(routeOf(report, '/flaky')).toMatchObject({ status: 'major_outage', uptime: 0.25, success: 1, failure: 3 })
        expect(report.status).toBe('major_outage')
      } finally {
        await status.close()
        await server.close()
        db.cleanup()
      }
    })
  }
})
