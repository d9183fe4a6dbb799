import type { HubProcess } from './hub.js';
import { fire, type LoadResult } from './load.js';

export const LISTING_QUERY = 'queues/archived?message=order:new&state=completed';

/**
 * The filtered archive listing of issue 7, `GET …/queues/archived?message=order:new&state=completed`
 * (first page, 25 items, with its total count), from one autocannon connection: each request's
 * latency is the hub's own time to answer, not a queue behind other requests.
 */
export function listing(hub: HubProcess, seconds: number, connections: number): Promise<LoadResult> {
  return fire({
    url: `${hub.url}/api/stores/${hub.storeId}/${LISTING_QUERY}`,
    headers: { 'x-augury-token': hub.token },
    connections,
    seconds,
    timeoutMs: (seconds + 60) * 1000,
  });
}
