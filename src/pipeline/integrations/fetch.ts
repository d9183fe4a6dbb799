import { type Dispatcher, request } from 'undici';
import { jsonProblem } from '../../json-limits.js';
import { VERSION } from '../../version.js';

/**
 * GET `{url}/endpoint.json`, defensively: the URL is whatever a store typed, so the fetch has an
 * overall deadline, a size cap, and never leaves the host it was given. undici's `request` does not
 * follow redirects on its own; this follows at most `maxRedirects` hops, and only while they stay on
 * the same host name (an http → https upgrade on that host is fine). A redirect elsewhere is an
 * error, not a silent hop: an endpoint whose descriptor lives on another host should be registered
 * with that host's URL.
 */

export interface FetchOptions {
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** The connections to use: the hub's, which obey the endpoint URL policy (pipeline/outbound.ts). */
  dispatcher?: Dispatcher;
}

export const FETCH_DEFAULTS = { timeoutMs: 5000, maxBytes: 256 * 1024, maxRedirects: 3 } as const;

export type FetchResult = { ok: true; json: unknown } | { ok: false; error: string };

export function descriptorUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}/endpoint.json`;
}

export async function fetchDescriptor(base: string, options: FetchOptions = {}): Promise<FetchResult> {
  const { timeoutMs, maxBytes, maxRedirects, dispatcher } = { ...FETCH_DEFAULTS, ...options };
  const first = descriptorUrl(base);
  const signal = AbortSignal.timeout(timeoutMs);
  let url = first;
  try {
    for (let hop = 0; ; hop++) {
      const res = await request(url, {
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': `switchyard/${VERSION}` },
        signal,
        ...(dispatcher ? { dispatcher } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
        await res.body.dump();
        if (hop >= maxRedirects) return fail(first, `more than ${maxRedirects} redirects`);
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          return fail(first, `redirects to ${next.protocol} (only http and https are followed)`);
        }
        if (next.hostname !== new URL(url).hostname) {
          return fail(first, `redirects to another host (${next.host}); not followed`);
        }
        url = next.toString();
        continue;
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump();
        return fail(first, `answered HTTP ${res.statusCode}`);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.body.destroy();
        return fail(first, `is larger than ${kib(maxBytes)}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.body.destroy();
          return fail(first, `is larger than ${kib(maxBytes)}`);
        }
        chunks.push(chunk as Buffer);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        return fail(first, `is not valid JSON (${(err as Error).message})`);
      }
      const problem = jsonProblem(json);
      if (problem) return fail(first, `is not usable JSON (${problem.pointer} ${problem.reason})`);
      return { ok: true, json };
    }
  } catch (err) {
    if (signal.aborted) return fail(first, `did not answer within ${timeoutMs / 1000} s`);
    const e = err as { code?: string; message?: string };
    return fail(
      first,
      `could not be fetched: ${e.code ?? ''}${e.code ? ' ' : ''}${e.message ?? String(err)}`,
    );
  }
}

function fail(url: string, reason: string): FetchResult {
  return { ok: false, error: `GET ${url} ${reason}` };
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}
