import type { Dispatcher } from 'undici';
import { HubError, invalid } from '../errors.js';
import type { FetchOptions } from '../pipeline/integrations/fetch.js';
import { DEFAULT_OPTIONS } from '../pipeline/mapping-validation.js';
import { refusal, type UrlPolicy } from '../url-policy.js';

/**
 * Refuses an endpoint URL the hub's policy does not allow (docs/security.md) with a 422 naming
 * `url` and the rule. An unchanged URL is not checked again, so a mapping or integration stored
 * before the policy was tightened can still be edited in its other fields.
 */
export function checkEndpointUrl(policy: UrlPolicy | undefined, url: string, previous?: string): void {
  if (!policy || url === previous) return;
  const why = policy.checkUrl(url);
  if (why) throw new HubError('URL_REFUSED', { '/url': [refusal(why)] });
}

/** How the hub fetches an integration's endpoint.json: over its policy-checked connections. */
export function fetchWith(ctx: { outbound?: Dispatcher | undefined }): FetchOptions | undefined {
  return ctx.outbound ? { dispatcher: ctx.outbound } : undefined;
}

/** The hub's caps on what a mapping may ask for (settings mappingMaxConcurrency, mappingMaxTimeoutMs). */
export interface MappingCaps {
  concurrency: number;
  timeoutMs: number;
}

/**
 * Refuses a mapping asking for more concurrency or a longer timeout than the hub allows, with a
 * 422 naming the option and the cap. As with URLs, a value that did not change is not checked
 * again (a mapping stored before a cap was lowered stays editable), nor is a default the mapping
 * did not choose; the delivery engine applies
 * the caps to every mapping in any case (docs/security.md, "Fair delivery").
 */
export function checkMappingCaps(
  caps: MappingCaps | undefined,
  options: { concurrency: number; timeout_ms: number },
  previous?: { concurrency: number; timeout_ms: number },
): void {
  if (!caps) return;
  const errors: Record<string, string[]> = {};
  // a default above a cap is not the mapping's choice: it runs at the cap (the engine clamps)
  const asked = (key: 'concurrency' | 'timeout_ms') =>
    options[key] !== DEFAULT_OPTIONS[key] && options[key] !== previous?.[key];
  if (options.concurrency > caps.concurrency && asked('concurrency'))
    errors['/options/concurrency'] = [
      `must be at most ${caps.concurrency} on this hub (its mappingMaxConcurrency setting)`,
    ];
  if (options.timeout_ms > caps.timeoutMs && asked('timeout_ms'))
    errors['/options/timeout_ms'] = [
      `must be at most ${caps.timeoutMs} ms on this hub (its mappingMaxTimeoutMs setting)`,
    ];
  if (Object.keys(errors).length > 0) throw invalid(errors);
}
