// Small statistics helpers for the benchmark's figures.

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Smallest and largest value, to show the spread behind a median. */
export function range(values: readonly number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)]
}
