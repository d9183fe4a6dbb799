import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Store API tokens: 192 random bits, shown once, stored only as a SHA-256 digest. A digest of a
 * high-entropy secret needs no salt or slow hash (nothing to brute-force), and it lets the hub find
 * a token's row by its digest. The final comparison still runs in constant time.
 */
export function generateToken(): string {
  return `sy_${randomBytes(24).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A short, non-secret hint shown in listings so a user can tell tokens apart. */
export function tokenHint(token: string): string {
  return `${token.slice(0, 7)}…`;
}

/** Constant-time check of a presented token against the stored digests of a store. */
export function tokenMatches(presented: string, digests: readonly string[]): boolean {
  const candidate = Buffer.from(hashToken(presented), 'hex');
  let found = false;
  for (const digest of digests) {
    const stored = Buffer.from(digest, 'hex');
    // every digest is compared, so the time taken does not tell which one (if any) matched
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate)) found = true;
  }
  return found;
}
