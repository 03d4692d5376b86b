// `npm run bench`: builds the library, measures it next to its peers and alone, and writes bench/RESULTS.md.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, type } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Child, canPin, killAll, pin } from './children.js'
import {
  measureFlush,
  measureMemory,
  measurePages,
  measureStorage,
  mysqlTarget,
  postgresTarget,
  removeScratch,
  scratch,
  sqliteUrl,
  VIEW_CASES,
  type FlushFigures,
  type FlushTarget,
  type MemoryFigures,
  type PageFigures,
  type StorageFigures,
  type ViewCase,
} from './costs.js'
import { VARIANTS, type LoadResult, type MicroResult, type ServerArg, type ServerStats, type Variant } from './shared.js'

import { summariseProfile, type ProfileSummary } from './profile.js'
import { writeResults, type HttpRound, type Machine, type Results, type Settings } from './report.js'

const quick = process.argv.includes('--quick')
const root = fileURLToPath(new URL('..', import.meta.url))

const common = { connections: 50, days: 90, flushRoutes: 1000 }
const settings: Settings = quick
  ? { ...common, quick, rounds: 2, warmupSeconds: 0.5, durationSeconds: 1.5, cpuRequests: 5_000, microCalls: 1_000_000, microRounds: 2, pageWarmups: 1, pageRepeats: 2, pageProfileViews: 1, flushes: 3, pageSizes: [10, 100], memoryRoutes: 100 }
  : { ...common, quick, rounds: 5, warmupSeconds: 2, durationSeconds: 8, cpuRequests: 30_000, microCalls: 5_000_000, microRounds: 5, pageWarmups: 2, pageRepeats: 7, pageProfileViews: 3, flushes: 10, pageSizes: [10, 100, 1000], memoryRoutes: 1000 }
/** Where profiles are left for a closer look (ignored by git). */
const profiles = fileURLToPath(new URL('.', import.meta.url))

const started = Date.now()
function log(message: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(4)
  process.stderr.write(`[bench ${seconds}s] ${message}\n`)
}

function build(): void {
  log('npm run build')
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  if (result.status !== 0) throw new Error('npm run build failed; the benchmark measures the built library')
}

function machine(): Machine {
  let model = cpus()[0]?.model ?? 'unknown'
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model
  } catch {
    // not Linux: os.cpus() has it
  }
  return {
    cpu: model,
    cores: availableParallelism(),
    node: process.version,
    os: `${type()} ${release()}`,
    pinned: canPin(),
    date: new Date().toISOString(),
    loadBefore: loadavg()[0]!,
    loadAfter: 0,
  }
}

/** One variant in one round: a fresh server, warmed up, then a timed run and a counted run. */
async function measureVariant(load: Child, variant: Variant, round: number): Promise<HttpRound> {
  const arg: ServerArg = { variant, database: sqliteUrl(join(scratch, `load-${round}.db`)) }
  const server = await Child.start('./server.ts', { core: 1, arg })
  try {
    const url = `http://127.0.0.1:${(server.info as { port: number }).port}/users/42`
    const { connections } = settings
    const budget = (seconds: number) => (seconds + 60) * 1000
    await load.call<LoadResult>('run', { url, connections, duration: settings.warmupSeconds }, budget(settings.warmupSeconds))
    const timed = await load.call<LoadResult>('run', { url, connections, duration: settings.durationSeconds }, budget(settings.durationSeconds))
    const before = await server.call<ServerStats>('stats')
    const counted = await load.call<LoadResult>('run', { url, connections, amount: settings.cpuRequests }, budget(120))
    const after = await server.call<ServerStats>('stats')
    const cpuMicros = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system
    return {
      variant,
      round,
      rps: timed.rps,
      p50: timed.p50,
      p99: timed.p99,
      cpuMicrosPerRequest: cpuMicros / counted.requests,
      rssBytes: after.memory.rss,
      bad: timed.bad + counted.bad,
    }
  } finally {
    await server.stop()
  }
}

async function measureHttp(): Promise<HttpRound[]> {
  const load = await Child.start('./load.ts', { core: 0 })
  const rounds: HttpRound[] = []
  try {
    for (let round = 0; round < settings.rounds; round++) {
      // a different order each round, so that no variant always follows the same one
      const order = VARIANTS.map((_, k) => VARIANTS[(k + round) % VARIANTS.length]!)
      for (const variant of order) {
        const result = await measureVariant(load, variant, round)
        rounds.push(result)
        log(
          `round ${round + 1}/${settings.rounds} ${variant.padEnd(22)} ${result.rps.toFixed(0).padStart(6)} req/s  ` +
            `${result.cpuMicrosPerRequest.toFixed(1).padStart(6)} µs CPU/req  p99 ${result.p99} ms`,
        )
      }
    }
  } finally {
    await load.stop()
  }
  return rounds
}

async function measureMicro(): Promise<MicroResult> {
  const micro = await Child.start('./micro.ts', { core: 1 })
  try {
    return await micro.call<MicroResult>('run', { calls: settings.microCalls, rounds: settings.microRounds }, 600_000)
  } finally {
    await micro.stop()
  }
}

async function measureFlushes(): Promise<{ figures: FlushFigures[]; skipped: string[] }> {
  const targets: FlushTarget[] = [{ store: 'SQLite (file)', url: sqliteUrl(join(scratch, 'flush.db')) }, await postgresTarget(), await mysqlTarget()]
  const figures: FlushFigures[] = []
  const skipped: string[] = []
  for (const target of targets) {
    if (target.url === null) {
      skipped.push(target.skipped ?? `${target.store} not available`)
      log(`flush: ${target.skipped}`)
      continue
    }
    try {
      const result = await measureFlush(target, settings.flushRoutes, settings.flushes)
      figures.push(result)
      log(`flush ${settings.flushRoutes} route-minutes on ${target.store}: ${result.medianMs.toFixed(1)} ms`)
    } catch (error) {
      skipped.push(`${target.store}: ${(error as Error).message}`)
    } finally {
      await target.drop?.().catch((error: unknown) => log(`could not drop the ${target.store} database: ${(error as Error).message}`))
    }
  }
  return { figures, skipped }
}

/** Profiles one variant under the HTTP load once it is warm, and leaves the profile in bench/. */
async function measureProfile(variant: Variant): Promise<ProfileSummary> {
  const file = join(profiles, `${variant}.cpuprofile`)
  const load = await Child.start('./load.ts', { core: 0 })
  const server = await Child.start('./server.ts', {
    core: 1,
    arg: { variant, database: sqliteUrl(join(scratch, 'profile.db')) } satisfies ServerArg,
  })
  try {
    const url = `http://127.0.0.1:${(server.info as { port: number }).port}/users/42`
    const budget = (seconds: number) => (seconds + 60) * 1000
    await load.call('run', { url, connections: settings.connections, duration: settings.warmupSeconds }, budget(settings.warmupSeconds))
    await server.call('startProfile')
    await load.call('run', { url, connections: settings.connections, duration: settings.durationSeconds }, budget(settings.durationSeconds))
    await server.call('stopProfile', file)
  } finally {
    await server.stop()
    await load.stop()
  }
  return summariseProfile(file)
}

async function main(): Promise<void> {
  build()
  const results: Results = { machine: machine(), settings } as Results
  pin(process.pid, 0)
  log(`${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}${results.machine.pinned ? '' : ', not pinned'}${quick ? ', quick' : ''}`)

  results.http = await measureHttp()
  log('in-process per-request path')
  results.micro = await measureMicro()
  log('CPU profiles of server-status and the floor under load')
  results.profile = await measureProfile('server-status')
  results.floorProfile = await measureProfile('floor')

  results.pages = []
  for (const routes of settings.pageSizes) {
    const largest = routes === settings.pageSizes[settings.pageSizes.length - 1]
    const figures: PageFigures = await measurePages(routes, settings.days, {
      warmups: settings.pageWarmups,
      repeats: settings.pageRepeats,
      profile: largest ? { dir: profiles, views: settings.pageProfileViews } : null,
    })
    if (figures.profiles) {
      const files = figures.profiles
      results.pageProfiles = Object.fromEntries(VIEW_CASES.map((c) => [c, summariseProfile(files[c])])) as Record<ViewCase, ProfileSummary>
    }
    results.pages.push(figures)
    log(
      `page ${routes} routes × ${settings.days} days: ${figures.page.full.toFixed(1)} ms after a full read, ` +
        `${figures.page.minute.toFixed(1)} ms after the minute's read, ${figures.page.cached.toFixed(1)} ms cached`,
    )
  }

  const flush = await measureFlushes()
  results.flush = flush.figures
  results.skipped = flush.skipped

  results.storage = []
  for (const requests of [10_000, 1_000_000]) {
    const figures: StorageFigures = await measureStorage(requests, 100, 60)
    results.storage.push(figures)
    log(`storage after ${requests} requests: ${figures.fileBytes} bytes`)
  }

  log(`memory with ${settings.memoryRoutes} routes`)
  const memory: MemoryFigures = await measureMemory(settings.memoryRoutes, settings.days)
  results.memory = memory

  results.seconds = (Date.now() - started) / 1000
  results.machine.loadAfter = loadavg()[0]!
  const file = join(root, 'bench', quick ? 'RESULTS.quick.md' : 'RESULTS.md')
  writeFileSync(file, writeResults(results))
  log(`wrote ${file}`)
}

try {
  await main()
} catch (error) {
  process.exitCode = 1
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
} finally {
  killAll()
  removeScratch()
}
