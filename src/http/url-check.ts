import type { Dispatcher } from 'undici';
import { HubError } from '../errors.js';
import type { FetchOptions } from '../pipeline/integrations/fetch.js';
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
