import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { ROOT } from './processes.js';

/**
 * The seed page's push, byte for byte (test/fixtures/new_product.json), unless
 * SWITCHYARD_BENCH_BODY names another push body's file (a larger, more realistic payload, say).
 */
export const PUSH_BODY = readFileSync(
  process.env.SWITCHYARD_BENCH_BODY ?? `${ROOT}test/fixtures/new_product.json`,
  'utf8',
);

export interface LoadResult {
  /** Answered 2xx per second of the run. */
  rps: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Requests sent (a run stopped by its duration cuts some off before their answer). */
  sent: number;
  seconds: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  connections: number;
}

export interface Load {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Stop after this many seconds… */
  seconds?: number;
  /** …or after this many requests (whichever comes first when both are set). */
  requests?: number;
  /** Hard bound on the whole run (a hung server must not hang the harness). */
  timeoutMs: number;
}

/**
 * One autocannon run in this process. A run with only `requests` is count-bounded (`amount`); with
 * `seconds` it is time-bounded and `requests` caps it as well (`maxOverallRequests`). Either way a
 * timer stops it after `timeoutMs`.
 */
export function fire(load: Load): Promise<LoadResult> {
  const options: autocannon.Options = {
    url: load.url,
    method: load.method ?? 'GET',
    headers: load.headers ?? {},
    ...(load.body === undefined ? {} : { body: load.body }),
    connections: load.connections,
    pipelining: 1,
    timeout: 30,
    sampleInt: 100,
    ...(load.seconds !== undefined
      ? { duration: load.seconds, ...(load.requests ? { maxOverallRequests: load.requests } : {}) }
      : { amount: load.requests ?? 1000 }),
  };
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const instance = autocannon(options, (err, r) => {
      clearTimeout(timer);
      if (err) return reject(err);
      const seconds = r.duration;
      resolve({
        rps: Math.round(r['2xx'] / seconds),
        ok2xx: r['2xx'],
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        sent: r.requests.sent,
        seconds,
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        p999: r.latency.p99_9,
        max: r.latency.max,
        connections: load.connections,
      });
    });
    timer = setTimeout(() => instance.stop(), load.timeoutMs);
  });
}
