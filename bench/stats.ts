/** Percentiles over plain arrays (the samples here are at most a few hundred thousand). */
export function percentiles(values: readonly number[]): { p50: number; p99: number; max: number } {
  if (values.length === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: r2(at(50)), p99: r2(at(99)), max: r2(sorted[sorted.length - 1]!) };
}

export function r2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The monotonic clock in microseconds (CLOCK_MONOTONIC: comparable between processes). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
