import { request } from 'undici';

/** A JSON request to a running hub, for the CLI's remote mode. Throws with the hub's error text. */
export async function callHub<T>(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await request(url, {
    method,
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
