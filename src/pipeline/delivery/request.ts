import type { LeasedMessage, Parameter } from '../../storage/delivery-contract.js';
import type { Mapping } from '../../storage/mapping-contract.js';
import { VERSION } from '../../version.js';
import { signatureHeaders } from './signing.js';

export interface ServiceRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The parameters a mapping receives: the names it lists, or by default those of its integration. */
export function parametersFor(
  mapping: Mapping,
  all: readonly Parameter[],
  integrationName: string | null,
): Parameter[] {
  if (mapping.parameters) {
    const wanted = new Set(mapping.parameters);
    return all.filter((p) => wanted.has(p.name));
  }
  if (!integrationName) return [];
  const prefix = `${integrationName}.`;
  return all.filter((p) => p.name.startsWith(prefix));
}

/**
 * The service request (docs/delivery.md#the-service-request), as endpoints written for the original hub
 * expect it: the message with `payload.parameters` as a list of `{name, value}`, the mapping token as
 * `X-Augury-Token` (E1 endpoints) and `X-Hub-Token` (later ones), and Standard Webhooks signature headers
 * when the mapping has a signing secret. Fields the sender added at the top level of the message travel
 * along, unless they would shadow one of the hub's own.
 */
export function buildServiceRequest(
  m: LeasedMessage,
  mapping: Mapping,
  parameters: readonly Parameter[],
  now: number,
): ServiceRequest {
  const body = serviceBody(m, parameters);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, */*',
    'user-agent': `switchyard/${VERSION}`,
    'x-augury-token': mapping.token,
    'x-hub-token': mapping.token,
    'x-hub-store': m.store_id,
  };
  if (mapping.options.signing_secret) {
    Object.assign(
      headers,
      signatureHeaders(mapping.options.signing_secret, m.id, Math.floor(now / 1000), body),
    );
  }
  const url = m.update_url ? new URL(m.update_url, mapping.url).toString() : mapping.url;
  return { url, headers, body };
}

/**
 * The body of a service request. Most messages carry no top-level extras and no `parameters` key
 * of their own: their body is spliced from the payload's stored JSON text and the parameters'
 * stored value texts, without parsing and re-serialising the payload (a tenth of a delivery's own
 * CPU for a 1 KB payload). Anything else takes the general path; both give the same JSON value.
 */
function serviceBody(m: LeasedMessage, parameters: readonly Parameter[]): string {
  const text = m.payload.trimEnd();
  if (!m.extra && text.endsWith('}') && !text.includes('"parameters"')) {
    const list = parameters.map((p) => `{"name":${JSON.stringify(p.name)},"value":${p.value}}`).join(',');
    const open = text.slice(0, -1);
    const empty = open.trim() === '{';
    const payload = `${open}${empty ? '' : ','}"parameters":[${list}]}`;
    return `{"message":${JSON.stringify(m.message)},"message_id":${JSON.stringify(m.id)},"parent_id":${JSON.stringify(m.parent_id)},"store_id":${JSON.stringify(m.store_id)},"payload":${payload}}`;
  }
  const payload = JSON.parse(m.payload) as Record<string, unknown>;
  payload.parameters = parameters.map((p) => ({ name: p.name, value: JSON.parse(p.value) }));
  const extra = m.extra ? (JSON.parse(m.extra) as Record<string, unknown>) : {};
  return JSON.stringify({
    ...extra,
    message: m.message,
    message_id: m.id,
    parent_id: m.parent_id,
    store_id: m.store_id,
    payload,
  });
}
