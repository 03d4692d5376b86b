// Days in a time zone: which local day a minute belongs to, and day arithmetic.

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000

/** Tells whether `timeZone` is an IANA zone that this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
    return true
  } catch {
    return false
  }
}

/** Maps instants to `YYYY-MM-DD` in one time zone; remembers the minutes it has seen. */
export class DayClock {
  readonly timeZone: string
  readonly #format: Intl.DateTimeFormat
  readonly #byMinute = new Map<number, string>()

  constructor(timeZone: string) {
    this.timeZone = timeZone
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hourCycle: 'h23',
    })
  }

  /** The local day of a minute since the epoch. */
  dayOfMinute(minute: number): string {
    let day = this.#byMinute.get(minute)
    if (day === undefined) {
      // the cache only serves the minutes of recent flushes and reports
      if (this.#byMinute.size > 20_000) this.#byMinute.clear()
      day = this.dayOf(minute * MINUTE_MS)
      this.#byMinute.set(minute, day)
    }
    return day
  }

  /** The local day of an instant in ms. */
  dayOf(ms: number): string {
    let year = '', month = '', day = ''
    for (const part of this.#format.formatToParts(ms)) {
      if (part.type === 'year') year = part.value
      else if (part.type === 'month') month = part.value
      else if (part.type === 'day') day = part.value
    }
    return `${year}-${month}-${day}`
  }
}

/** `day` moved by `n` calendar days. @example addDays('2026-03-01', -1) // '2026-02-28' */
export function addDays(day: string, n: number): string {
  const ms = Date.parse(`${day}T00:00:00Z`) + n * DAY_MS
  return new Date(ms).toISOString().slice(0, 10)
}

/** Minutes since the epoch of an instant in ms. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS)
}
