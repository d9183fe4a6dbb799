import type { TestHub } from './hub.js';

export interface Answer {
  status: number;
  body: any;
}

/** Any method on a store path through the public API (inject), with the store token. */
export async function call(
  t: TestHub,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await t.hub.app.inject({
    method,
    url: path.startsWith('/') ? path : `/api/stores/${t.storeId}/${path}`,
    headers: {
      'x-augury-token': t.token,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  let parsed: unknown = res.body;
  try {
    parsed = JSON.parse(res.body);
  } catch {}
  return { status: res.statusCode, body: parsed };
}

let counter = 0;

/** A valid mapping body; `over` replaces fields. Names are unique per call. */
export function mappingBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    name: `test.service_${counter}`,
    url: 'http://127.0.0.1:9/service',
    token: 'endpoint-token',
    messages: ['order:new'],
    ...over,
  };
}

/** Creates a mapping and returns it (throws on a non-201). */
export async function createMapping(t: TestHub, over: Record<string, unknown> = {}): Promise<any> {
  const res = await call(t, 'POST', 'mappings', mappingBody(over));
  if (res.status !== 201) throw new Error(`create mapping: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * Waits until the first accepted copy of an incoming message is in one of `states` (its detail,
 * wherever it is: accepted or archived), and returns that detail.
 */
export async function copyIn(t: TestHub, parentId: string, states: string[], ms = 10_000): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const child = (await call(t, 'GET', `messages/${parentId}`)).body.children?.[0];
    if (child) {
      const detail = (await call(t, 'GET', `messages/${child.id}`)).body;
      if (states.includes(detail.state)) return detail;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for the copy of ${parentId} to be ${states.join('/')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
