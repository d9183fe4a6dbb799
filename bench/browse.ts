import { request } from 'undici';
import type { HubProcess } from './hub.js';
import { percentiles } from './stats.js';

/**
 * What an operator's screen asks for on a large archive: the queue counts (the whole archive
 * counted) and two listings whose filters match few messages (so their capped counts read far
 * more rows than they find).
 */
export const BROWSE_QUERIES = [
  'queues',
  'queues/archived?state=skipped',
  'queues/archived?message=customer:new&state=skipped',
];

export interface BrowseFigure {
  everyMs: number;
  /** Rounds of BROWSE_QUERIES sent; a round is skipped while the one before is unanswered. */
  rounds: number;
  skipped: number;
  reads: number;
  non2xx: number;
  /** Reads that got no answer (connection refused or reset, a hub gone). */
  failed: number;
  /** Each read's time to answer, ms. */
  p50: number;
  p99: number;
  max: number;
}

/**
 * Sends BROWSE_QUERIES at `hub` every `everyMs` (all three at once, like a screen refreshing)
 * until the returned function is called; it resolves once the reads under way are answered.
 */
export function startBrowsing(hub: HubProcess, everyMs: number): () => Promise<BrowseFigure> {
  const times: number[] = [];
  let non2xx = 0;
  let failed = 0;
  let rounds = 0;
  let skipped = 0;
  let inFlight: Promise<unknown> | undefined;
  const read = async (path: string) => {
    const started = performance.now();
    const res = await request(`${hub.url}/api/stores/${hub.storeId}/${path}`, {
      headers: { 'x-augury-token': hub.token },
    });
    await res.body.text();
    if (res.statusCode >= 300) non2xx++;
    times.push(performance.now() - started);
  };
  const timer = setInterval(() => {
    if (inFlight) {
      skipped++;
      return;
    }
    rounds++;
    inFlight = Promise.allSettled(BROWSE_QUERIES.map(read)).then((outcomes) => {
      failed += outcomes.filter((o) => o.status === 'rejected').length;
      inFlight = undefined;
    });
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await inFlight;
    const p = percentiles(times);
    return {
      everyMs,
      rounds,
      skipped,
      reads: times.length,
      non2xx,
      failed,
      p50: p.p50,
      p99: p.p99,
      max: p.max,
    };
  };
}
