// The per-request path: counts in memory per route per minute, handed to the store in batches.

/** Internal outcome codes, cheaper than strings on the hot path. */
export const SUCCESS = 0
export const FAILURE = 1
export const IGNORED = 2
export type OutcomeCode = typeof SUCCESS | typeof FAILURE | typeof IGNORED

/** The rule under which requests that match no route are counted. */
export const UNMATCHED = ''

/** Counts of one route in one minute, not yet written. */
export class Bucket {
  readonly rule: string
  readonly minute: number
  success = 0
  failure = 0
  ignored = 0
  durationMs = 0

  constructor(rule: string, minute: number) {
    this.rule = rule
    this.minute = minute
  }
}

/**
 * Aggregates requests per rule and minute. `record()` does an increment and, once a minute
 * per route, allocates a bucket; it never awaits or does I/O.
 */
export class Recorder {
  /** Most buckets of past minutes held; past it the oldest are dropped. */
  readonly maxBuckets: number
  /** Requests dropped because more than `maxBuckets` minutes were pending. */
  dropped = 0
  /** The bucket of the current minute of each rule. */
  #current = new Map<string, Bucket>()
  /** Buckets of earlier minutes, and buckets handed back after a failed write. */
  #closed: Bucket[] = []

  constructor(maxBuckets = Infinity) {
    this.maxBuckets = maxBuckets
  }

  /** Counts one request. `now` is in ms since the epoch. */
  record(rule: string, outcome: OutcomeCode, durationMs: number, now: number): void {
    const minute = Math.floor(now / 60_000)
    let bucket = this.#current.get(rule)
    if (bucket === undefined || bucket.minute !== minute) {
      if (bucket !== undefined) {
        if (this.#closed.length >= this.maxBuckets) this.#dropOldest()
        this.#closed.push(bucket)
      }
      bucket = new Bucket(rule, minute)
      this.#current.set(rule, bucket)
    }
    if (outcome === SUCCESS) bucket.success++
    else if (outcome === FAILURE) bucket.failure++
    else bucket.ignored++
    bucket.durationMs += durationMs
  }

  /** Takes every pending bucket out; what is recorded afterwards starts new buckets. */
  drain(): Bucket[] {
    const out = this.#closed
    for (const bucket of this.#current.values()) out.push(bucket)
    this.#closed = []
    this.#current = new Map()
    return out
  }

  /** Drops the oldest tenth of the held minutes, counting their requests in `dropped`. */
  #dropOldest(): void {
    const gone = this.#closed.splice(0, Math.max(1, Math.ceil(this.#closed.length / 10)))
    for (const bucket of gone) this.dropped += bucket.success + bucket.failure + bucket.ignored
  }

  /** Forgets the pending counts of one rule. */
  discard(rule: string): void {
    this.#current.delete(rule)
    this.#closed = this.#closed.filter((bucket) => bucket.rule !== rule)
  }

  /** Every pending bucket, for reports; the recorder keeps them. */
  *pending(): IterableIterator<Bucket> {
    yield* this.#closed
    yield* this.#current.values()
  }

  /** Number of pending buckets. */
  get size(): number {
    return this.#closed.length + this.#current.size
  }
}
