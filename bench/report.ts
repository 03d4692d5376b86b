// Turns the benchmark's figures into bench/RESULTS.md: every figure a table, every ratio, and the targets.
import { PAGE_FLUSH_INTERVAL_MS, VIEW_CASES, type FlushFigures, type MemoryFigures, type PageFigures, type StorageFigures, type ViewCase } from './costs.js'
import { MICRO_CASES, VARIANTS, type MicroCase, type MicroResult, type Variant } from './shared.js'
import { OWN, shareOfFunctions, shortName, type ProfileSummary, type Share } from './profile.js'
import { median, range } from './stats.js'

/** How the run was set up. */
export interface Settings {
  quick: boolean
  rounds: number
  connections: number
  warmupSeconds: number
  durationSeconds: number
  /** Requests over which the server's CPU time is taken. */
  cpuRequests: number
  microCalls: number
  microRounds: number
  pageWarmups: number
  /** Page views profiled in each case, on the largest app. */
  pageProfileViews: number
  pageRepeats: number
  flushes: number
  pageSizes: number[]
  days: number
  memoryRoutes: number
  flushRoutes: number
}

/** The machine the run measured. */
export interface Machine {
  cpu: string
  cores: number
  node: string
  os: string
  pinned: boolean
  date: string
  /** One-minute load average at the start and at the end: other work on the machine shows here. */
  loadBefore: number
  loadAfter: number
}

/** One variant in one round of the HTTP load. */
export interface HttpRound {
  variant: Variant
  round: number
  rps: number
  p50: number
  p99: number
  cpuMicrosPerRequest: number
  rssBytes: number
  bad: number
}

/** Everything the run measured. */
export interface Results {
  machine: Machine
  settings: Settings
  http: HttpRound[]
  micro: MicroResult
  /** Profile of the server-status variant under load. */
  profile: ProfileSummary
  /** Profile of the floor variant under the same load. */
  floorProfile: ProfileSummary
  pages: PageFigures[]
  /** Profiles of views of the largest page, per case. */
  pageProfiles?: Record<ViewCase, ProfileSummary>
  flush: FlushFigures[]
  skipped: string[]
  storage: StorageFigures[]
  memory: MemoryFigures
  seconds: number
}

const LABELS: Record<Variant, string> = {
  bare: 'bare Express 5',
  floor: 'floor: `res.on("finish")` counter',
  'server-status': '**server-status** (SQLite file, default flush)',
  'express-status-monitor': 'express-status-monitor',
  'swagger-stats': 'swagger-stats',
}

const CPU_TARGET = 0.03
/** The floor's own functions in bench/server.ts. */
const FLOOR_FUNCTIONS = ['finishCounter', 'countFinished']
const PAGE_TARGET_MS = 100

const fixed = (n: number, digits = 1) => n.toFixed(digits)
const percent = (ratio: number, digits = 1) => `${ratio >= 1 ? '+' : '−'}${Math.abs((ratio - 1) * 100).toFixed(digits)}%`
const share = (n: number) => `${(n * 100).toFixed(1)}%`
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const kb = (bytes: number) => (bytes >= 1024 * 1024 ? mb(bytes) : `${(bytes / 1024).toFixed(1)} KiB`)

/** A Markdown table; the first column and text columns (`code`, `what runs`) align left, figures right. */
function table(head: string[], rows: Array<Array<string | number>>): string {
  const align = head.map((h, i) => (i === 0 || h === 'code' || h === 'what runs' || h === '' ? '---' : '---:'))
  return [head, align, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n')
}

interface VariantSummary {
  variant: Variant
  rps: number
  p50: number
  p99: number
  cpu: number
  cpuRange: [number, number]
  rss: number
  bad: number
}

function summarise(http: HttpRound[]): Map<Variant, VariantSummary> {
  const out = new Map<Variant, VariantSummary>()
  for (const variant of VARIANTS) {
    const rounds = http.filter((r) => r.variant === variant)
    if (rounds.length === 0) continue
    const cpu = rounds.map((r) => r.cpuMicrosPerRequest)
    out.set(variant, {
      variant,
      rps: median(rounds.map((r) => r.rps)),
      p50: median(rounds.map((r) => r.p50)),
      p99: median(rounds.map((r) => r.p99)),
      cpu: median(cpu),
      cpuRange: range(cpu),
      rss: median(rounds.map((r) => r.rssBytes)),
      bad: rounds.reduce((n, r) => n + r.bad, 0),
    })
  }
  return out
}

/** The results file in Markdown. */
export function writeResults(results: Results): string {
  const { machine, settings: s } = results
  const byVariant = summarise(results.http)
  const bare = byVariant.get('bare')!
  const ours = byVariant.get('server-status')!
  const floor = byVariant.get('floor')!
  const monitor = byVariant.get('express-status-monitor')!
  const swagger = byVariant.get('swagger-stats')!
  const peers = [monitor, swagger]
  const cpuRatio = ours.cpu / bare.cpu
  const micro = Object.fromEntries(
    (Object.keys(MICRO_CASES) as MicroCase[]).map((name) => [name, median(results.micro.samples[name])]),
  ) as Record<MicroCase, number>
  const ownNs = micro['server-status'] - micro['no middleware']
  const floorNs = micro.floor - micro['no middleware']
  const largest = results.pages[results.pages.length - 1]!
  const growth = results.pages.slice(1).map((p, i) => {
    const prev = results.pages[i]!
    const factors = (kind: 'page' | 'json') =>
      Object.fromEntries(VIEW_CASES.map((c) => [c, p[kind][c] / prev[kind][c]])) as Record<ViewCase, number>
    return { from: prev.routes, to: p.routes, routes: p.routes / prev.routes, page: factors('page'), json: factors('json') }
  })
  const sqlite = results.flush.find((f) => f.store.startsWith('SQLite'))
  const ourShare = results.profile.parts.filter((p) => p.name.startsWith(OWN)).reduce((n, p) => n + p.share, 0)
  const floorShare = shareOfFunctions(results.floorProfile, FLOOR_FUNCTIONS)
  /** What bare would cost if only the library's samples were taken away: its share of the rest. */
  const profiledRatio = 1 / (1 - ourShare)

  const cpuMet = cpuRatio <= 1 + CPU_TARGET
  const peersMet = peers.every((p) => ours.cpu < p.cpu)
  // judged on the steady case: the view once a minute, after the read of today and yesterday
  const pageMet = largest.page.minute < PAGE_TARGET_MS
  const linearMet = growth.every((g) => g.page.minute <= g.routes)
  const mark = (met: boolean) => (met ? '**met**' : '**missed**')

  const lines: string[] = []
  const add = (...text: string[]) => lines.push(...text)

  add(
    '# Benchmark results',
    '',
    `Written by \`npm run bench\`${s.quick ? ' (`--quick`: a smoke run, too short for conclusions)' : ''} on ${machine.date.slice(0, 10)} (${machine.date}), in ${Math.round(results.seconds)} s.`,
    '',
    table(
      ['machine', ''],
      [
        ['CPU', machine.cpu],
        ['cores', machine.cores],
        ['Node.js', machine.node],
        ['OS', machine.os],
        ['load average (1 min)', `${fixed(machine.loadBefore, 2)} at the start, ${fixed(machine.loadAfter, 2)} at the end`],
        ['pinning', machine.pinned ? 'server on core 1, load client and runner on core 0 (`taskset`)' : 'none (taskset or a second core missing)'],
      ],
    ),
    '',
    '## Headline',
    '',
    `- Server CPU time per request with server-status: **${fixed(ours.cpu)} µs** against ${fixed(bare.cpu)} µs bare, **${percent(cpuRatio)}** ` +
      `(floor ${percent(floor.cpu / bare.cpu)}, express-status-monitor ${percent(monitor.cpu / bare.cpu)}, swagger-stats ${percent(swagger.cpu / bare.cpu)}).`,
    `- Throughput with server-status: ${fixed(ours.rps, 0)} req/s, ${percent(ours.rps / bare.rps)} against bare ` +
      `(express-status-monitor ${percent(monitor.rps / bare.rps)}, swagger-stats ${percent(swagger.rps / bare.rps)}).`,
    `- By CPU profile under load, server-status code is **${share(ourShare)}** of the server's busy CPU (≈ ${fixed(ourShare * ours.cpu, 1)} µs a request, ` +
      `an estimated ${percent(profiledRatio)} over bare); the floor's counter is ${share(floorShare)}.`,
    `- In-process, the serverStatus middleware adds **${fixed(ownNs, 0)} ns** per request (the bare finish counter adds ${fixed(floorNs, 0)} ns); ` +
      `\`Recorder.record()\` alone is ${fixed(micro['recorder.record()'], 0)} ns.`,
    `- Status page for ${largest.routes} routes × ${largest.days} days: **${fixed(largest.page.minute)} ms** after the minute's read of today and yesterday ` +
      `(the steady case), ${fixed(largest.page.cached)} ms from the cached rows, ${fixed(largest.page.full)} ms after a full read of every shown day ` +
      '(after an explicit `flush()`, or every 10 minutes).',
    '',
    '## Targets',
    '',
    'Reported, not enforced.',
    '',
    table(
      ['target', 'measured', 'result'],
      [
        [`CPU per request within ${CPU_TARGET * 100}% of bare Express`, `${percent(cpuRatio)} (${fixed(ours.cpu)} vs ${fixed(bare.cpu)} µs)`, mark(cpuMet)],
        ['CPU per request below both peers', peers.map((p) => `${fixed(p.cpu)} µs ${p.variant}`).join(', '), mark(peersMet)],
        [
          `page for ${largest.routes} routes × ${largest.days} days under ${PAGE_TARGET_MS} ms`,
          `${fixed(largest.page.minute)} ms after the minute's read (${fixed(largest.page.full)} ms after a full read, ${fixed(largest.page.cached)} ms cached)`,
          mark(pageMet),
        ],
        [
          'page time growing no faster than routes',
          `after the minute's read ${growth.map((g) => `×${fixed(g.page.minute, 2)} for ×${g.routes} routes`).join(', ')}`,
          mark(linearMet),
        ],
      ],
    ),
    '',
    '## Per request, over HTTP',
    '',
    `A hello-world Express 5 app with one JSON route with a parameter (\`GET /users/:id\`), in five variants, each in its own ` +
      `child process${machine.pinned ? ' pinned to core 1' : ''}; autocannon in another process${machine.pinned ? ' on core 0' : ''}, ` +
      `${s.connections} connections, 127.0.0.1 only. ${s.rounds} rounds, interleaved round-robin with the order rotated each round; ` +
      `each round starts a fresh server, warms it for ${s.warmupSeconds} s, loads it for ${s.durationSeconds} s (req/s and latency), ` +
      `then takes the server's CPU time (\`process.cpuUsage()\`, user + system) over ${s.cpuRequests.toLocaleString('en-US')} more requests. ` +
      'Medians over rounds; ratios to bare.',
    '',
    table(
      ['variant', 'req/s', 'vs bare', 'p50 ms', 'p99 ms', 'CPU µs/req', 'vs bare', 'CPU min–max', 'RSS'],
      VARIANTS.map((v) => {
        const x = byVariant.get(v)!
        return [
          LABELS[v],
          fixed(x.rps, 0),
          percent(x.rps / bare.rps),
          x.p50,
          x.p99,
          fixed(x.cpu),
          percent(x.cpu / bare.cpu),
          `${fixed(x.cpuRange[0])}–${fixed(x.cpuRange[1])}`,
          mb(x.rss),
        ]
      }),
    ),
    '',
    'CPU µs per request, every round (the spread shows the noise of the machine):',
    '',
    table(
      ['variant', ...Array.from({ length: s.rounds }, (_, i) => `round ${i + 1}`)],
      VARIANTS.map((v) => [
        v,
        ...results.http
          .filter((r) => r.variant === v)
          .sort((a, b) => a.round - b.round)
          .map((r) => fixed(r.cpuMicrosPerRequest)),
      ]),
    ),
    '',
  )
  const bad = [...byVariant.values()].filter((x) => x.bad > 0)
  if (bad.length > 0) add(`Failed or non-2xx responses: ${bad.map((x) => `${x.variant} ${x.bad}`).join(', ')}.`, '')

  add(
    '## Per request, in-process',
    '',
    `Steady cost of each per-request path, ${results.micro.calls.toLocaleString('en-US')} calls per measurement, ` +
      `${results.micro.rounds} rounds interleaved, median. The middlewares are called as Express calls them, with a minimal ` +
      'request and a fresh `EventEmitter` as the response, which then emits `finish`.',
    '',
    table(
      ['path', 'ns/request', 'added to no middleware', 'what runs'],
      (Object.keys(MICRO_CASES) as MicroCase[]).map((name) => [
        name,
        fixed(micro[name]),
        name === 'recorder.record()' || name === 'no middleware' ? '' : `${fixed(micro[name] - micro['no middleware'])} ns`,
        MICRO_CASES[name],
      ]),
    ),
    '',
    `Next to the ${fixed(bare.cpu)} µs that this machine spends on a bare Express request, the middleware's ${fixed(ownNs, 0)} ns ` +
      `are ${share(ownNs / 1000 / bare.cpu)} of a request; the floor's ${fixed(floorNs, 0)} ns are ${share(floorNs / 1000 / bare.cpu)}.`,
    '',
    '## Where the time goes under load',
    '',
    `V8's CPU profiler (the one behind \`node --cpu-prof\`), started once the server is warm, on the server-status variant and on ` +
      `the floor under the same load for ${s.durationSeconds} s each: share of the busy samples by part of the process. ` +
      'The profiles are left in `bench/server-status.cpuprofile` and `bench/floor.cpuprofile`.',
    '',
    table(
      ['part', 'server-status variant', 'floor variant'],
      results.profile.parts.map((p) => [p.name, share(p.share), share(results.floorProfile.parts.find((f) => f.name === p.name)?.share ?? 0)]),
    ),
    '',
    'The measuring middleware itself, from the profiles (its share of the busy CPU times the CPU per request measured above):',
    '',
    table(
      ['middleware', 'share of busy CPU', '≈ µs per request', 'profile estimate vs bare'],
      [
        ['floor (`finishCounter`, `countFinished`)', share(floorShare), fixed(floorShare * floor.cpu, 2), percent(1 / (1 - floorShare))],
        ['server-status (all its code)', share(ourShare), fixed(ourShare * ours.cpu, 2), percent(profiledRatio)],
      ],
    ),
    '',
    'server-status functions by self time:',
    '',
    table(
      ['function', 'share of busy CPU'],
      results.profile.functions.filter((f) => f.part === OWN).slice(0, 8).map((f) => [`\`${f.name}\``, share(f.share)]),
    ),
    '',
    'Its hottest source lines (in the built `dist/` file):',
    '',
    table(['line', 'code', 'share of busy CPU'], results.profile.ownLines.map((l) => [l.name, `\`${l.code.replaceAll('|', '\\|')}\``, share(l.share)])),
    '',
    `The in-process figure above uses small, plain objects; in the server, \`req\` and \`res\` are the objects whose prototypes ` +
      'Express swaps on every request, and the profile shows what the same code costs on them.',
    '',
    '## Status page and JSON',
    '',
    `An app with N routes and ${s.days} days of history seeded into its SQLite store (one minute row per route per day), ` +
      `options \`days: ${s.days}\` and \`flushIntervalMs: ${PAGE_FLUSH_INTERVAL_MS}\`. Each view follows one request to a monitored route, ` +
      'so that there are new counts to show. Three cases:',
    '',
    '- **after a full read**: a view right after an explicit `flush()`, which makes the next report read every shown day from the store again; ' +
      'in production this happens after the app calls `flush()`, and at most every 10 minutes otherwise;',
    `- **after the minute's read**: a view more than the flush interval after the last read, without an explicit flush (here ${PAGE_FLUSH_INTERVAL_MS} ms, ` +
      "the default is 60 s): the timer has written the request, and the report reads today, yesterday and the recent minutes again. " +
      'This is what a view costs once a minute in production, the steady case;',
    '- **cached**: a view again at once, from the rows read last and the process\'s own writes.',
    '',
    `Times are the whole HTTP round trip, to the last byte, from a client on the same machine that reads the body as bytes; median of ${s.pageRepeats}.`,
    '',
    table(
      ['routes', 'page, full read', "page, minute's read", 'page, cached', 'JSON, full read', "JSON, minute's read", 'JSON, cached', 'page size', 'JSON size'],
      results.pages.map((p) => [
        p.routes,
        ...VIEW_CASES.map((c) => `${fixed(p.page[c])} ms`),
        ...VIEW_CASES.map((c) => `${fixed(p.json[c])} ms`),
        kb(p.pageBytes),
        kb(p.jsonBytes),
      ]),
    ),
    '',
    "The server's CPU time per view (user + system of the server process over the view, taken over IPC before and after it: " +
      "V8's helper threads and the kernel's sending of the response count too), median; steadier than the round trip when other work shares the core:",
    '',
    table(
      ['routes', 'page, full read', "page, minute's read", 'page, cached', 'JSON, full read', "JSON, minute's read", 'JSON, cached'],
      results.pages.map((p) => [p.routes, ...VIEW_CASES.map((c) => `${fixed(p.pageCpu[c])} ms`), ...VIEW_CASES.map((c) => `${fixed(p.jsonCpu[c])} ms`)]),
    ),
    '',
    'Growth between sizes (linear would be the routes factor):',
    '',
    table(
      ['routes', 'factor', 'page, full read', "page, minute's read", 'page, cached', 'JSON, full read', "JSON, minute's read", 'JSON, cached'],
      growth.map((g) => [
        `${g.from} → ${g.to}`,
        `×${g.routes}`,
        ...VIEW_CASES.map((c) => `×${fixed(g.page[c], 2)}`),
        ...VIEW_CASES.map((c) => `×${fixed(g.json[c], 2)}`),
      ]),
    ),
    '',
    ...pageProfileLines(results),
    '## Flush',
    '',
    `Time to write ${s.flushRoutes.toLocaleString('en-US')} route-minutes (one request on each of ${s.flushRoutes} routes in one minute), ` +
      `drained from the Recorder and written in one transaction as the core does each minute. Each database is fresh; ` +
      `the first flush inserts the day rows, the ${s.flushes} after it update them. Median of those ${s.flushes}.`,
    '',
    table(
      ['store', 'first flush', 'flush (median)', 'vs SQLite'],
      results.flush.map((f) => [f.store, `${fixed(f.firstMs)} ms`, `${fixed(f.medianMs)} ms`, sqlite ? `×${fixed(f.medianMs / sqlite.medianMs, 2)}` : '']),
    ),
    '',
  )
  if (results.skipped.length > 0) add(`Not measured: ${results.skipped.join('; ')}.`, '')
  if (sqlite) {
    add(
      `Spread over a minute of traffic at the measured ${fixed(ours.rps, 0)} req/s, one SQLite flush of ${s.flushRoutes} route-minutes costs ` +
        `${fixed((sqlite.medianMs * 1e6) / (ours.rps * 60), 0)} ns per request.`,
      '',
    )
  }
  const [small, big] = results.storage
  add(
    '## Storage',
    '',
    `Requests recorded straight into a Recorder over the same ${small!.routes} routes and ${small!.minutes} minutes, flushed once per ` +
      'minute into a fresh SQLite file; the size is taken after the store is closed.',
    '',
    table(
      ['requests', 'file size', 'routes rows', 'minute rows', 'day rows'],
      results.storage.map((x) => [x.requests.toLocaleString('en-US'), kb(x.fileBytes), x.routeRows, x.minuteRows, x.dayRows]),
    ),
    '',
    `${(big!.requests / small!.requests).toLocaleString('en-US')} times the requests, ×${fixed(big!.fileBytes / small!.fileBytes, 3)} the file size: ` +
      'storage follows routes × minutes, not requests.',
    '',
  )
  const m = results.memory
  add(
    '## Memory',
    '',
    `An app process with ${m.routes} routes, after one request to each and a full GC; the monitored one has ${s.days} days of history in its store.`,
    '',
    table(
      ['process', 'RSS', 'heap used', 'RSS vs bare', 'heap vs bare'],
      [
        ['bare Express', mb(m.bare.rss), mb(m.bare.heapUsed), '', ''],
        ['with server-status', mb(m.monitored.rss), mb(m.monitored.heapUsed), `+${mb(m.monitored.rss - m.bare.rss)}`, `+${mb(m.monitored.heapUsed - m.bare.heapUsed)}`],
        [
          `with server-status, after viewing the ${s.days}-day page`,
          mb(m.monitoredAfterPage.rss),
          mb(m.monitoredAfterPage.heapUsed),
          `+${mb(m.monitoredAfterPage.rss - m.bare.rss)}`,
          `+${mb(m.monitoredAfterPage.heapUsed - m.bare.heapUsed)}`,
        ],
      ],
    ),
    '',
    '## Closing note',
    '',
  )
  const notes: string[] = []
  const bareCpu = results.http.filter((r) => r.variant === 'bare').map((r) => r.cpuMicrosPerRequest)
  const noise = (Math.max(...bareCpu) - Math.min(...bareCpu)) / bare.cpu
  const hottest = results.profile.ownLines.slice(0, 2)
  const onReqRes = hottest.some((l) => /\b(req|res)\[/.test(l.code))
  const cpuWhere =
    `Where the time goes: the profile under load puts server-status code at ${share(ourShare)} of the busy CPU ` +
    `(≈ ${fixed(ourShare * ours.cpu, 1)} µs a request, an estimated ${percent(profiledRatio)} over bare; the floor: ${share(floorShare)}), ` +
    `hottest at ${hottest.map((l) => `\`${l.code}\` (${share(l.share)})`).join(' and ')}; in-process, on plain objects, the middleware adds ${fixed(ownNs, 0)} ns.`
  if (cpuMet) {
    notes.push(`CPU per request with server-status is ${percent(cpuRatio)} against bare, within the ${CPU_TARGET * 100}% target. ${cpuWhere}`)
  } else {
    notes.push(
      `CPU per request with server-status measured ${percent(cpuRatio)} against bare: ${fixed((cpuRatio - 1 - CPU_TARGET) * 100)} points over the ` +
        `${CPU_TARGET * 100}% target. Bare Express's own rounds span ${share(noise)} of its median` +
        `, with a load average of ${fixed(machine.loadBefore, 1)} → ${fixed(machine.loadAfter, 1)} on ${machine.cores} cores (the run's own two busy processes included)` +
        `, so the HTTP figure alone cannot settle a 3% question here. ${cpuWhere} ` +
        (profiledRatio - 1 <= CPU_TARGET
          ? 'By the profile the library is within the target, and the measured gap is the noise of the run; a run on a quiet machine, or more rounds, would show it.'
          : 'By the profile too the library is over the target, so the hottest lines above are where the per-request path has to shed work' +
            (onReqRes
              ? ': they read and write symbol-keyed properties on `req` and `res`, objects that Express re-prototypes on every request, which likely keeps those accesses ' +
                'off V8\'s fast paths; keeping the per-request state off those objects (in a closure or a WeakMap/WeakSet) is the first thing to try.'
              : '.')),
    )
  }
  if (!peersMet) {
    notes.push(
      `server-status did not cost less CPU per request than both peers in this run (express-status-monitor ${fixed(monitor.cpu)} µs, swagger-stats ` +
        `${fixed(swagger.cpu)} µs, server-status ${fixed(ours.cpu)} µs); see the rounds table for the spread.`,
    )
  }
  const cells = largest.routes * largest.days
  const profiles = results.pageProfiles
  const storeOf = (c: ViewCase) => (profiles?.[c].parts ?? []).filter((p) => p.name.startsWith(`${OWN} store`)).reduce((n, p) => n + p.share, 0)
  const ownOf = (c: ViewCase) => profiles?.[c].parts.find((p) => p.name === OWN)?.share ?? 0
  const top = (c: ViewCase) => profiles?.[c].functions.slice(0, 5).map((f) => `\`${shortName(f.name)}\` ${share(f.share)}`).join(', ')
  const minuteReadMs = largest.page.minute - largest.page.cached
  const fullReadMs = largest.page.full - largest.page.cached
  const where = (c: ViewCase) =>
    profiles ? ` (profile: ${top(c)}; the store ${share(storeOf(c))}, server-status's own code ${share(ownOf(c))})` : ''
  const pageFacts =
    `The ${largest.routes}-route, ${largest.days}-day page (${kb(largest.pageBytes)}, ${fixed(largest.pageBytes / cells, 0)} bytes a route-day) took ` +
    `${fixed(largest.page.minute)} ms (server CPU ${fixed(largest.pageCpu.minute)} ms) after the minute's read${where('minute')}, ${fixed(largest.page.cached)} ms cached${where('cached')}, ` +
    `and ${fixed(largest.page.full)} ms after a full read${where('full')}.`
  if (largest.page.minute > 0.8 * largest.page.full && storeOf('minute') > 0.5 * storeOf('full')) {
    notes.push(
      `The view after the minute's read cost about as much as the one after a full read (${fixed(largest.page.minute)} against ${fixed(largest.page.full)} ms, ` +
        `the store ${share(storeOf('minute'))} of its profile against ${share(storeOf('full'))}): it read every shown day again, not today and yesterday only. ` +
        'A flush of the timer, not only an explicit `flush()`, then forces the next report to read everything.' +
        (storeOf('cached') > 0.05
          ? ` Views meant to be cached read the store too (${share(storeOf('cached'))} of their profile): a timer flush during the view before them forced it.`
          : ''),
    )
  }
  const closers: string[] = []
  if (largest.page.cached > PAGE_TARGET_MS / 2 && storeOf('cached') <= 0.05) {
    closers.push(
      `from cached rows the page still takes ${fixed(largest.page.cached)} ms to build, render and write ${kb(largest.pageBytes)}; ` +
        'less markup per day, or a page that does not write out every day of every route at once for large apps, would shrink that',
    )
  }
  if (minuteReadMs > PAGE_TARGET_MS / 4) {
    closers.push(`the minute's read adds ${fixed(minuteReadMs)} ms to the cached view; reading only the rows changed since the last read would shrink it`)
  }
  if (!pageMet) {
    notes.push(
      `${pageFacts} The steady case misses the ${PAGE_TARGET_MS} ms target by ${fixed(largest.page.minute - PAGE_TARGET_MS)} ms ` +
        `(×${fixed(largest.page.minute / PAGE_TARGET_MS, 2)}). ` +
        (closers.length > 0 ? `What would close it: ${closers.join('; ')}.` : ''),
    )
  } else {
    notes.push(`${pageFacts} The steady case is under the ${PAGE_TARGET_MS} ms target.`)
  }
  if (largest.page.full >= PAGE_TARGET_MS) {
    notes.push(
      `After a full read the page takes ${fixed(largest.page.full)} ms, ${fixed(fullReadMs)} ms more than cached: reading all ${cells.toLocaleString('en-US')} day rows ` +
        'of the shown days. It happens after an explicit `flush()` and at most every 10 minutes; keeping the older days between full reads ' +
        '(they change only through late writes of other instances) and reading them less often, or in the background, would take it off the view.',
    )
  }
  const steps = (c: ViewCase) => growth.map((g) => `×${fixed(g.page[c], 2)}`).join(', ')
  const perRoutes = growth.map((g) => `×${g.routes}`).join(', ')
  if (!linearMet) {
    const sizeSteps = results.pages.slice(1).map((p, i) => `×${fixed(p.pageBytes / results.pages[i]!.pageBytes, 1)}`).join(', ')
    notes.push(
      `Page time after the minute's read grew faster than the number of routes (${steps('minute')} for ${perRoutes}), while the page's size grew ${sizeSteps}; ` +
        `cached ${steps('cached')}, after a full read ${steps('full')}.`,
    )
  } else {
    notes.push(
      `Page time after the minute's read grows at most linearly with routes (${steps('minute')} for ${perRoutes}; cached ${steps('cached')}, ` +
        `after a full read ${steps('full')}); fixed costs weigh more at the small sizes.`,
    )
  }
  add(...notes.map((n) => `- ${n}`), '')
  return lines.join('\n')
}

function pageProfileLines(results: Results): string[] {
  const profiles = results.pageProfiles
  if (!profiles) return []
  const largest = results.pages[results.pages.length - 1]!
  const s = results.settings
  const names = ['full read', "minute's read", 'cached']
  const parts = [...new Set(VIEW_CASES.flatMap((c) => profiles[c].parts.map((p) => p.name)))]
  const shareIn = (c: ViewCase, list: Share[], name: string) => list.find((x) => x.name === name)?.share ?? 0
  parts.sort((a, b) => shareIn('minute', profiles.minute.parts, b) - shareIn('minute', profiles.minute.parts, a))
  const functions = [...new Set(VIEW_CASES.flatMap((c) => profiles[c].functions.slice(0, 8).map((f) => f.name)))]
  functions.sort((a, b) => shareIn('minute', profiles.minute.functions, b) - shareIn('minute', profiles.minute.functions, a))
  return [
    `Where the time of the ${largest.routes}-route page goes: V8's CPU profiler over page views of each case ` +
      `(${s.pageProfileViews} after a full read, ${s.pageProfileViews} after the minute's read, ${s.pageProfileViews * 2} cached), ` +
      'each view profiled on its own; share of busy samples. The first profile of each case is left in `bench/status-page-<case>.cpuprofile`.',
    '',
    table(['part', ...names], parts.map((name) => [name, ...VIEW_CASES.map((c) => share(shareIn(c, profiles[c].parts, name)))])),
    '',
    table(
      ['function (self time)', ...names],
      functions.map((name) => [`\`${name}\``, ...VIEW_CASES.map((c) => share(shareIn(c, profiles[c].functions, name)))]),
    ),
    '',
  ]
}
