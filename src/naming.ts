// Names a route from its handler: a `# Name` line in a comment of its source, else its function name.

/** A name and doc read from a handler. */
export interface HandlerName {
  name?: string
  doc?: string
}

const BLOCK = /\/\*([\s\S]*?)\*\//g
const LINE_RUN = /(?:^[ \t]*\/\/.*(?:\r?\n|$))+/gm
const HEADING = /^#\s+(.+?)\s*#*$/

function commentLines(body: string): string[][] {
  const comments: Array<{ at: number; lines: string[] }> = []
  for (const match of body.matchAll(BLOCK)) {
    const lines = match[1]!.split(/\r?\n/).map((line) => line.replace(/^\s*\*?\s?/, '').trimEnd())
    comments.push({ at: match.index, lines })
  }
  for (const match of body.matchAll(LINE_RUN)) {
    const lines = match[0].split(/\r?\n/).filter((line) => line.trim() !== '').map((line) => line.replace(/^\s*\/\/\s?/, '').trimEnd())
    comments.push({ at: match.index, lines })
  }
  return comments.sort((a, b) => a.at - b.at).map((c) => c.lines)
}

/**
 * Reads `# Name` from the first comment inside `source` that has such a line; the other
 * lines of that comment are the doc.
 *
 * @example nameFromSource("function index(req, res) { /** # Index\n * Welcome page. *\/ }") // { name: 'Index', doc: 'Welcome page.' }
 */
export function nameFromSource(source: string): HandlerName {
  const open = source.indexOf('{')
  const body = open === -1 ? source : source.slice(open)
  for (const lines of commentLines(body)) {
    const index = lines.findIndex((line) => HEADING.test(line.trim()))
    if (index === -1) continue
    const name = HEADING.exec(lines[index]!.trim())![1]!
    const doc = lines
      .filter((_, i) => i !== index)
      .join('\n')
      .trim()
    return doc === '' ? { name } : { name, doc }
  }
  return {}
}

/** The usable name of a function: its own name without "bound ", or undefined for anonymous ones. */
export function functionName(fn: Function): string | undefined {
  const name = fn.name.replace(/^(bound )+/, '')
  return name === '' || name === 'anonymous' || name === '<anonymous>' ? undefined : name
}

/** Names read from sources, once per function: routes are listed on every page view. */
const bySource = new WeakMap<Function, HandlerName>()

function sourceName(handler: Function): HandlerName {
  let found = bySource.get(handler)
  if (found === undefined) {
    try {
      found = nameFromSource(Function.prototype.toString.call(handler))
    } catch {
      found = {}
    }
    bySource.set(handler, found)
  }
  return found
}

/**
 * Name and doc of a route from its handlers: the first handler with a `# Name` comment, else the
 * name of the last named handler (the one that answers).
 */
export function nameFromHandlers(handlers: readonly Function[]): HandlerName {
  for (const handler of handlers) {
    const found = sourceName(handler)
    if (found.name !== undefined) return found
  }
  for (let i = handlers.length - 1; i >= 0; i--) {
    const name = functionName(handlers[i]!)
    if (name !== undefined) return { name }
  }
  return {}
}
