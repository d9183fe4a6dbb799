import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signatures (the scheme Svix wrote up): HMAC-SHA256 over
 * `${id}.${timestampSeconds}.${body}`, sent as `webhook-signature: v1,<base64>`. A secret given as
 * `whsec_<base64>` is decoded (the standard's format); any other string is used as raw UTF-8 bytes.
 */
export function signatureHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  const key = secret.startsWith('whsec_')
    ? Buffer.from(secret.slice(6), 'base64')
    : Buffer.from(secret, 'utf8');
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}
