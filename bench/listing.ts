import { request } from 'undici';
import type { HubProcess } from './hub.js';
import { fire, type LoadResult } from './load.js';

export const LISTING_QUERY = 'queues/archived?message=order:new&state=completed';

export interface ListingFigure extends LoadResult {
  /**
   * The first listing the process answers, ms: it starts SQLite's reader thread (docs/storage.md)
   * and reads the archive's pages into a cold cache. Reported beside the steady state, not in it.
   */
  firstMs: number;
  /** Seconds of listing before the measured run (answered, not counted). */
  warmupSeconds: number;
}

/**
 * The filtered archive listing of issue 7, `GET …/queues/archived?message=order:new&state=completed`
 * (first page, 25 items, with its total count), from one autocannon connection: each request's
 * latency is the hub's own time to answer, not a queue behind other requests. The hub was just
 * restarted by the drains, so the first listing is timed on its own and a second of listing warms
 * the code and the cache before the measured run, as the latency run's three seconds do.
 */
export async function listing(hub: HubProcess, seconds: number, connections: number): Promise<ListingFigure> {
  const url = `${hub.url}/api/stores/${hub.storeId}/${LISTING_QUERY}`;
  const headers = { 'x-augury-token': hub.token };
  const started = performance.now();
  const first = await request(url, { headers });
  await first.body.text();
  const firstMs = Math.round((performance.now() - started) * 10) / 10;
  if (first.statusCode !== 200) throw new Error(`listing answered ${first.statusCode}`);
  const warmupSeconds = 1;
  const load = { url, headers, connections, timeoutMs: (seconds + 60) * 1000 };
  await fire({ ...load, seconds: warmupSeconds });
  return { ...(await fire({ ...load, seconds })), firstMs, warmupSeconds };
}
