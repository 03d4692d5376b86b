// Names a route from its handler: a `# Name` line in a comment of its source, else its function name.

/** A name and doc read from a handler. */
export interface HandlerName {
  name?: string
  doc?: string
}

const HEADING = /^#\s+(.+?)\s*#*$/

/**
 * The comments of a function's body, in order, each as its lines with the comment markers
 * taken off. Strings and template literals are skipped, so a `/*` inside one is no comment;
 * a run of `//` lines is one comment. `/*!` and `//!` (comments that compilers keep) count too.
 */
function bodyComments(source: string): string[][] {
  const comments: Array<{ end: number; lines: string[] }> = []
  const templates: number[] = [] // brace depth at each open `${`
  let braces = 0
  let parens = 0
  let inBody = false
  let i = 0
  const n = source.length
  const skipString = (quote: string) => {
    for (i++; i < n && source[i] !== quote; i++) if (source[i] === '\\') i++
    i++
  }
  // returns true when it stopped at `${`
  const skipTemplate = (): boolean => {
    for (; i < n; i++) {
      const c = source[i]
      if (c === '\\') i++
      else if (c === '`') {
        i++
        return false
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2
        return true
      }
    }
    return false
  }
  while (i < n) {
    const c = source[i]!
    const next = source[i + 1]
    if (c === '/' && next === '*') {
      const close = source.indexOf('*/', i + 2)
      const stop = close === -1 ? n : close
      if (inBody) {
        const text = source.slice(i + 2, stop).replace(/^[*!]+/, '')
        comments.push({ end: stop + 2, lines: text.split(/\r?\n/).map((line) => line.replace(/^\s*\*?\s?/, '').trimEnd()) })
      }
      i = stop + 2
    } else if (c === '/' && next === '/') {
      const close = source.indexOf('\n', i)
      const stop = close === -1 ? n : close
      if (inBody) {
        const line = source.slice(i + 2, stop).replace(/^!/, '').replace(/^\s?/, '').trimEnd()
        const last = comments.at(-1)
        // a line comment right below another one continues it
        if (last && last.end <= i && /^\s*$/.test(source.slice(last.end, i)) && (last as { line?: boolean }).line) {
          last.lines.push(line)
          last.end = stop
        } else {
          comments.push(Object.assign({ end: stop, lines: [line] }, { line: true }))
        }
      }
      i = stop
    } else if (c === '"' || c === "'") {
      skipString(c)
    } else if (c === '`') {
      i++
      if (skipTemplate()) templates.push(braces)
    } else if (c === '{') {
      if (parens === 0) inBody = true
      braces++
      i++
    } else if (c === '}') {
      if (templates.length > 0 && templates.at(-1) === braces) {
        templates.pop()
        i++
        if (skipTemplate()) templates.push(braces)
      } else {
        braces--
        i++
      }
    } else {
      if (c === '(') parens++
      else if (c === ')') parens--
      else if (c === '=' && next === '>' && parens === 0) inBody = true
      i++
    }
  }
  return comments.map((comment) => comment.lines.filter((line, index, all) => line !== '' || (index > 0 && index < all.length - 1)))
}

/**
 * Reads `# Name` from the first comment inside `source` that has such a line; the other
 * lines of that comment are the doc.
 *
 * @example nameFromSource("function index(req, res) { /** # Index\n * Welcome page. *\/ }") // { name: 'Index', doc: 'Welcome page.' }
 */
export function nameFromSource(source: string): HandlerName {
  for (const lines of bodyComments(source)) {
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
 * function name of the last handler (the one that answers).
 */
export function nameFromHandlers(handlers: readonly Function[]): HandlerName {
  for (const handler of handlers) {
    const found = sourceName(handler)
    if (found.name !== undefined) return found
  }
  // the last handler is the one that answers; a middleware's name before it is not the route's
  const last = handlers.at(-1)
  const name = last === undefined ? undefined : functionName(last)
  return name === undefined ? {} : { name }
}
