// Reads a V8 CPU profile (the `.cpuprofile` of `node --cpu-prof`) and tells where a server's busy time went.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount?: number
  positionTicks?: Array<{ line: number; ticks: number }>
}

/** A function or a source line and its share of the busy samples, 0 to 1. */
export interface Share {
  name: string
  share: number
}

/** Share of busy samples by part of the process, by function and by line of the library. */
export interface ProfileSummary {
  /** Samples not idle. */
  busySamples: number
  /** Part of the process → share of busy samples. */
  parts: Share[]
  /** Every function by self time, largest first, with the part it belongs to. */
  functions: Array<Share & { part: string }>
  /** The library's hottest source lines, with their code. */
  ownLines: Array<Share & { code: string }>
}

/** The part of the process a function belongs to. */
export const OWN = 'server-status'
export const APP = 'the app (bench/server.ts)'

function partOf(url: string, functionName: string): string {
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  if (module === 'express' || module === 'router') return 'Express (express, router)'
  if (module === 'kysely' || module === 'better-sqlite3') return 'server-status store (kysely, better-sqlite3)'
  if (module !== undefined) return 'other npm modules'
  if (url.includes('/dist/') || url.includes('/src/')) return OWN
  if (url.includes('/bench/')) return APP
  if (url.startsWith('node:')) return 'Node.js (http, net, streams, events)'
  if (functionName === '(garbage collector)') return 'garbage collector'
  return 'native and V8 (no script)'
}

function nameOf(frame: ProfileNode['callFrame']): string {
  const { functionName, url, lineNumber, columnNumber } = frame
  if (url === '') return functionName || '(native code)'
  return `${functionName || '(anonymous)'} (${url.split('/').slice(-2).join('/')}:${lineNumber + 1}:${columnNumber + 1})`
}

function sourceLine(url: string, line: number): string {
  try {
    const path = url.startsWith('file:') ? fileURLToPath(url) : url
    return readFileSync(path, 'utf8').split('\n')[line - 1]?.trim() ?? ''
  } catch {
    return ''
  }
}

/** Summarises the profile in `file`, or the samples of several profiles taken together. */
export function summariseProfile(file: string | readonly string[]): ProfileSummary {
  const files = typeof file === 'string' ? [file] : file
  const nodes = files.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { nodes: ProfileNode[] }).nodes)
  const parts = new Map<string, number>()
  const functions = new Map<string, number>()
  const partOfName = new Map<string, string>()
  const lines = new Map<string, { url: string; line: number; hits: number }>()
  let busy = 0
  for (const node of nodes) {
    const hits = node.hitCount ?? 0
    const { functionName, url } = node.callFrame
    if (hits === 0 || functionName === '(idle)') continue
    busy += hits
    const part = partOf(url, functionName)
    const name = nameOf(node.callFrame)
    parts.set(part, (parts.get(part) ?? 0) + hits)
    functions.set(name, (functions.get(name) ?? 0) + hits)
    partOfName.set(name, part)
    if (part === OWN) {
      for (const tick of node.positionTicks ?? []) {
        const key = `${url}:${tick.line}`
        const entry = lines.get(key) ?? { url, line: tick.line, hits: 0 }
        entry.hits += tick.ticks
        lines.set(key, entry)
      }
    }
  }
  const byShare = (map: Map<string, number>): Share[] =>
    [...map].sort((a, b) => b[1] - a[1]).map(([name, hits]) => ({ name, share: busy === 0 ? 0 : hits / busy }))
  return {
    busySamples: busy,
    parts: byShare(parts),
    functions: byShare(functions).map((f) => ({ ...f, part: partOfName.get(f.name) ?? '' })),
    ownLines: [...lines.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, 6)
      .map((l) => ({ name: `${l.url.split('/').pop()}:${l.line}`, share: busy === 0 ? 0 : l.hits / busy, code: sourceLine(l.url, l.line) })),
  }
}

/** A function's name without its location. */
export function shortName(name: string): string {
  return name.replace(/ \([^()]*:\d+:\d+\)$/, '')
}

/** Summed share of the functions whose name starts with one of `names`. */
export function shareOfFunctions(summary: ProfileSummary, names: readonly string[]): number {
  return summary.functions.filter((f) => names.some((n) => f.name === n || f.name.startsWith(`${n} (`))).reduce((sum, f) => sum + f.share, 0)
}

/** Share of one part of the process. */
export function shareOfPart(summary: ProfileSummary, part: string): number {
  return summary.parts.find((p) => p.name === part)?.share ?? 0
}
