import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { test } from 'node:test';
import { guardedLookup } from '../../src/pipeline/outbound.js';
import { UrlPolicy } from '../../src/url-policy.js';

// A resolver that answers as a DNS server would for the names the test makes up (the machine has
// no DNS to ask): what matters is what the guard does with the answer.
const answers: Record<string, LookupAddress[]> = {
  'mixed.example': [
    { address: '10.0.0.7', family: 4 },
    { address: '93.184.216.34', family: 4 },
  ],
  'rebound.example': [{ address: '169.254.169.254', family: 4 }],
  'mapped.example': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'inside.example.com': [{ address: '10.1.2.3', family: 4 }],
};
const resolve = (
  hostname: string,
  _options: unknown,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => {
  const found = answers[hostname];
  if (found) callback(null, found);
  else callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
};

function lookup(policy: UrlPolicy, host: string, all: boolean) {
  return new Promise<{ err: (Error & { code?: string }) | null; address: unknown; family?: number }>((done) =>
    guardedLookup(policy, resolve)(host, { all }, (err, address, family) => done({ err, address, family })),
  );
}

test('a lookup answers only with the addresses the policy allows', async () => {
  const policy = new UrlPolicy({ loopback: false, allow: ['*.example.com'], deny: [] });
  const mixed = await lookup(policy, 'mixed.example', true);
  assert.equal(mixed.err, null);
  assert.deepEqual(mixed.address, [{ address: '93.184.216.34', family: 4 }]);
  const one = await lookup(policy, 'mixed.example', false);
  assert.deepEqual([one.address, one.family], ['93.184.216.34', 4]);

  const rebound = await lookup(policy, 'rebound.example', true);
  assert.equal(rebound.err?.code, 'URL_REFUSED');
  assert.match(
    rebound.err?.message ?? '',
    /rebound\.example resolves only to refused addresses: 169\.254\.169\.254 is a cloud metadata address/,
  );
  const mapped = await lookup(policy, 'mapped.example', false);
  assert.match(
    mapped.err?.message ?? '',
    /mapped\.example resolves only to refused addresses: ::ffff:7f00:1 \(127\.0\.0\.1\) is loopback/,
  );

  // a name in the allow list may resolve to what the built-in rules refuse
  const inside = await lookup(policy, 'inside.example.com', true);
  assert.deepEqual(inside.address, [{ address: '10.1.2.3', family: 4 }]);
  // and a resolver's own error passes through unchanged
  assert.equal((await lookup(policy, 'nowhere.example', true)).err?.code, 'ENOTFOUND');
});
