/**
 * The retry schedule of a failing delivery, as one pure function (docs/delivery.md shows it as a
 * table). The n-th failure waits SCHEDULE[n-1], then every 8 hours, each ±20 % jitter so a burst
 * of failures does not come back as a burst. A `Retry-After` from a 429 or 503 replaces the
 * schedule (capped at 24 hours; never sooner than 1 second).
 */
export const SCHEDULE_SECONDS = [15, 60, 300, 900, 1800, 3600, 7200, 14400] as const;
export const STEADY_SECONDS = 8 * 3600;
export const JITTER = 0.2;
export const RETRY_AFTER_CAP_SECONDS = 24 * 3600;

/** Base delay in seconds after the `failures`-th consecutive failure (1-based), before jitter. */
export function baseDelaySeconds(failures: number): number {
  if (failures < 1) return 0;
  return SCHEDULE_SECONDS[failures - 1] ?? STEADY_SECONDS;
}

/**
 * Milliseconds until the next attempt. `random` is a number in [0, 1) (Math.random in production,
 * fixed in tests); 0.5 means no jitter.
 */
export function nextDelayMs(failures: number, random: number, retryAfterSeconds?: number): number {
  // Retry-After: 0, or a date already past, says nothing about when: the schedule applies (taken
  // as "1 second" it had a busy endpoint hit once a second until max_age)
  if (retryAfterSeconds !== undefined && retryAfterSeconds > 0) {
    return Math.round(Math.min(Math.max(retryAfterSeconds, 1), RETRY_AFTER_CAP_SECONDS) * 1000);
  }
  const factor = 1 - JITTER + 2 * JITTER * random;
  return Math.round(baseDelaySeconds(failures) * factor * 1000);
}

/**
 * Reads a Retry-After header: delta-seconds or an HTTP date. Undefined when absent or unreadable
 * (the schedule applies then).
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/[a-z]/i.test(trimmed)) return undefined; // V8 would read "-5" as a year
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
