import { request } from 'undici';

/**
 * How long the CLI waits for a hub's answer (its headers, then each gap in its body):
 * SWITCHYARD_CLIENT_TIMEOUT seconds, 60 by default. Without a bound, a hub that accepted the
 * connection and never answered left `apply` or `export` hanging for ever.
 */
export const CLIENT_TIMEOUT_MS = (() => {
  const seconds = Number(process.env.SWITCHYARD_CLIENT_TIMEOUT ?? 60);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
})();

/** A JSON request to a running hub, for the CLI's remote mode. Throws with the hub's error text. */
export async function callHub<T>(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await request(url, {
    method,
    // a hub that never answers ends the command instead of hanging it
    headersTimeout: CLIENT_TIMEOUT_MS,
    bodyTimeout: CLIENT_TIMEOUT_MS,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  if (res.statusCode >= 400) {
    const detail = parsed && typeof parsed === 'object' ? JSON.stringify(parsed) : text;
    throw new Error(`${method} ${url} answered ${res.statusCode}: ${detail}`);
  }
  return { status: res.statusCode, body: parsed as T };
}
