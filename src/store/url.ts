// Parses the `database` option into the database kind and what its driver needs to connect.

/** Where a store keeps its counts, as parsed from a database URL. */
export type DatabaseLocation =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'postgres'; connectionString: string }
  | { kind: 'mysql'; uri: string }

const EXPECTED =
  'expected sqlite:///relative.db, sqlite:////absolute.db, sqlite://:memory:, ' +
  'postgres://user:pass@host:5432/db, postgresql://…, mysql://user:pass@host:3306/db or mariadb://…'

/**
 * Parses a database URL. Query parameters of PostgreSQL and MySQL URLs are kept, so they
 * reach the driver (`?sslmode=require`, `?application_name=app`, `?ssl={…}`).
 *
 * | URL | result |
 * |---|---|
 * | `sqlite:///tmp/status.db` | `{ kind: 'sqlite', filename: 'tmp/status.db' }` (relative) |
 * | `sqlite:////var/lib/app/status.db` | `{ kind: 'sqlite', filename: '/var/lib/app/status.db' }` |
 * | `sqlite://:memory:` | `{ kind: 'sqlite', filename: ':memory:' }` |
 * | `postgres://…`, `postgresql://…` | `{ kind: 'postgres', connectionString }` (the URL as given) |
 * | `mysql://…`, `mariadb://…` | `{ kind: 'mysql', uri }` (`mariadb:` rewritten to `mysql:`) |
 *
 * @throws Error naming what is wrong: an unknown scheme, an empty path, a missing host or database.
 * @example
 * parseDatabaseUrl('postgres://app:secret@db:5432/status?application_name=web')
 * // → { kind: 'postgres', connectionString: 'postgres://app:secret@db:5432/status?application_name=web' }
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new Error(`database URL is empty; ${EXPECTED}`)
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined) {
    throw new Error(`database URL "${redact(url)}" has no scheme; ${EXPECTED}`)
  }
  switch (scheme) {
    case 'sqlite':
      return { kind: 'sqlite', filename: parseSqlite(url) }
    case 'postgres':
    case 'postgresql':
      checkServerUrl(url, 'postgres')
      return { kind: 'postgres', connectionString: url }
    case 'mysql':
    case 'mariadb':
      checkServerUrl(url, 'mysql')
      return { kind: 'mysql', uri: `mysql:${url.slice(scheme.length + 1)}` }
    default:
      throw new Error(`database URL "${redact(url)}" has unknown scheme "${scheme}:"; ${EXPECTED}`)
  }
}

/** `sqlite:///a.db` → `a.db`; `sqlite:////a.db` → `/a.db`; `sqlite://:memory:` → `:memory:`. */
function parseSqlite(url: string): string {
  const rest = url.slice('sqlite:'.length)
  if (!rest.startsWith('//')) {
    throw new Error(`database URL "${url}" must start with sqlite:// ; ${EXPECTED}`)
  }
  const location = rest.slice(2)
  if (location === ':memory:' || location === '/:memory:') return ':memory:'
  if (/[?#]/.test(location)) {
    throw new Error(
      `database URL "${url}" has a query or fragment; sqlite URLs take none (write "?" and "#" in a file name as %3F and %23)`,
    )
  }
  if (location === '' || location === '/') {
    throw new Error(`database URL "${url}" has an empty path; e.g. sqlite:///status.db or sqlite://:memory:`)
  }
  if (!location.startsWith('/')) {
    const host = location.split('/')[0]
    throw new Error(
      `database URL "${url}" names a host "${host}", which sqlite URLs cannot have; ` +
        'use three slashes for a relative path (sqlite:///data/status.db) or four for an absolute one (sqlite:////var/lib/status.db)',
    )
  }
  const encoded = location.slice(1)
  let filename: string
  try {
    filename = decodeURIComponent(encoded)
  } catch {
    throw new Error(`database URL "${url}" has a malformed %-escape in its path`)
  }
  if (filename === '' || filename.endsWith('/')) {
    throw new Error(`database URL "${url}" has an empty file name; e.g. sqlite:///status.db`)
  }
  return filename
}

/** Checks that a server URL names a host (or a socket) and a database. */
function checkServerUrl(url: string, kind: 'postgres' | 'mysql'): void {
  const example = kind === 'postgres' ? 'postgres://user:pass@host:5432/db' : 'mysql://user:pass@host:3306/db'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error(`database URL "${redact(url)}" is not a valid URL; e.g. ${example}`)
  }
  // pg reaches a Unix socket through `?host=/var/run/postgresql`, mysql2 through `?socketPath=…`
  const socket = parsed.searchParams.get(kind === 'postgres' ? 'host' : 'socketPath')
  if (parsed.hostname === '' && !socket) {
    throw new Error(`database URL "${redact(url)}" has no host; e.g. ${example}`)
  }
  const database = parsed.pathname.replace(/^\//, '')
  if (database === '') {
    throw new Error(`database URL "${redact(url)}" names no database; e.g. ${example}`)
  }
  if (database.includes('/')) {
    throw new Error(`database URL "${redact(url)}" has a path with more than a database name; e.g. ${example}`)
  }
}

/** The URL with its password replaced, for error messages. */
function redact(url: string): string {
  // up to the last "@": a password may hold "/", "?", "#" or "@" itself
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^]*@/i, '$1:***@')
}
