// The per-request path: counts in memory per route per minute, handed to the store in batches.
import type { DayClock } from './time.js'
import type { MinuteCounts } from './types.js'

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

/** The buckets as a store takes them, each with its day in the clock's time zone. */
export function minuteCounts(buckets: readonly Bucket[], clock: DayClock): MinuteCounts[] {
  return buckets.map((b) => ({
    rule: b.rule,
    minute: b.minute,
    day: clock.dayOfMinute(b.minute),
    success: b.success,
    failure: b.failure,
    ignored: b.ignored,
    durationMs: b.durationMs,
  }))
}

/** Buckets written as one unit; a retry of the same batch keeps its id. */
export interface Batch {
  id: string
  buckets: Bucket[]
}

/**
 * Aggregates requests per rule and minute. `record()` does an increment and, once a minute
 * per route, allocates a bucket; it never awaits or does I/O.
 */
export class Recorder {
  /** Most buckets held, the batch to retry included; past it the oldest are dropped. */
  readonly maxBuckets: number
  /** Requests dropped because more than `maxBuckets` minutes were pending. */
  dropped = 0
  /** The bucket of the current minute of each rule. */
  #current = new Map<string, Bucket>()
  /** Buckets of earlier minutes. */
  #closed: Bucket[] = []
  /** A batch whose write failed: older than every other bucket, written again first. */
  #retry: Batch | null = null

  constructor(maxBuckets = Infinity) {
    this.maxBuckets = maxBuckets
  }

  /** Counts one request. `now` is in ms since the epoch. */
  record(rule: string, outcome: OutcomeCode, durationMs: number, now: number): void {
    const minute = Math.floor(now / 60_000)
    let bucket = this.#current.get(rule)
    if (bucket === undefined || bucket.minute !== minute) {
      if (this.size >= this.maxBuckets) this.#dropOldest()
      if (bucket !== undefined) this.#closed.push(bucket)
      bucket = new Bucket(rule, minute)
      this.#current.set(rule, bucket)
    }
    if (outcome === SUCCESS) bucket.success++
    else if (outcome === FAILURE) bucket.failure++
    else bucket.ignored++
    bucket.durationMs += durationMs
  }

  /** Keeps a batch whose write failed, to be written again, whole and with its id, first. */
  setRetry(batch: Batch): void {
    this.#retry = batch
  }

  /** Takes the batch to retry out, if any. */
  takeRetry(): Batch | null {
    const batch = this.#retry
    this.#retry = null
    return batch
  }

  /** Tells whether a batch waits to be written again. */
  get retrying(): boolean {
    return this.#retry !== null
  }

  /** Takes every pending bucket but the retry batch out; what is recorded afterwards starts new buckets. */
  drain(): Bucket[] {
    const out = this.#closed
    for (const bucket of this.#current.values()) out.push(bucket)
    this.#closed = []
    this.#current = new Map()
    return out
  }

  /**
   * Drops the oldest tenth of the held minutes, counting their requests in `dropped`: those of
   * the retry batch first (it keeps its id, so a retry stays idempotent), then past minutes.
   */
  #dropOldest(): void {
    const count = Math.max(1, Math.ceil(this.size / 10))
    const from = this.#retry !== null && this.#retry.buckets.length > 0 ? this.#retry.buckets : this.#closed
    for (const bucket of from.splice(0, count)) this.dropped += bucket.success + bucket.failure + bucket.ignored
  }

  /** Forgets the pending counts of one rule. */
  discard(rule: string): void {
    this.#current.delete(rule)
    this.#closed = this.#closed.filter((bucket) => bucket.rule !== rule)
    if (this.#retry !== null) this.#retry.buckets = this.#retry.buckets.filter((bucket) => bucket.rule !== rule)
  }

  /** Every pending bucket, the retry batch's included, for reports; the recorder keeps them. */
  *pending(): IterableIterator<Bucket> {
    if (this.#retry !== null) yield* this.#retry.buckets
    yield* this.#closed
    yield* this.#current.values()
  }

  /** Number of pending buckets, the retry batch's included. */
  get size(): number {
    return (this.#retry?.buckets.length ?? 0) + this.#closed.length + this.#current.size
  }
}
