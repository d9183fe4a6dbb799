import { type Agent, request } from 'undici';
import { RESULT_BYTES, type TryResult } from './outcome.js';
import type { ServiceRequest } from './request.js';

/**
 * One POST of a service request. Never throws: a connection error, a timeout or an abort comes
 * back as `error`, an answer (any status) as `status` + `body`. The reply is read up to the size
 * the hub keeps; undici does not follow redirects, so a 3xx is an answer like any other.
 */
export async function post(
  agent: Agent,
  req: ServiceRequest,
  timeoutMs: number,
  inFlight: Set<AbortController>,
): Promise<TryResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  // One controller and one timer per request; shutdown aborts every controller in `inFlight`.
  // (A listener per request on one long-lived shutdown signal cost more than the set: Node's
  // EventTarget is slow to add and remove listeners, and AbortSignal.any keeps composites around.)
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
  inFlight.add(controller);
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      dispatcher: agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: controller.signal,
    });
    const text = await readLimited(res.body, RESULT_BYTES + 1);
    const header = (name: string) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    return {
      url: req.url,
      startedAt,
      durationMs: performance.now() - t0,
      status: res.statusCode,
      contentType: header('content-type'),
      retryAfter: header('retry-after'),
      body: text,
    };
  } catch (err) {
    const e = err as Error & { code?: string };
    const reason =
      e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT'
        ? `timed out after ${timeoutMs} ms`
        : `${e.code ?? e.name}: ${e.message}`;
    return { url: req.url, startedAt, durationMs: performance.now() - t0, error: reason };
  } finally {
    clearTimeout(timer);
    inFlight.delete(controller);
  }
}

async function readLimited(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  max: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= max) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
