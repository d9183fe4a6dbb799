import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fetchDescriptor } from '../../src/pipeline/integrations/fetch.js';
import { parseMapping } from '../../src/pipeline/mapping-validation.js';
import { outboundAgent } from '../../src/pipeline/outbound.js';
import { newMapping } from '../../src/storage/mapping-contract.js';
import { UrlPolicy } from '../../src/url-policy.js';
import { backends } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { type TestHub, testHub } from '../helpers/hub.js';

/**
 * The endpoint URL policy at connect time (src/pipeline/outbound.ts): a mapping whose URL the API
 * would refuse now, stored before the policy was tightened (here: written into storage directly),
 * reaches nothing. The copy fails with the policy's reason; the endpoint sees no request.
 */
for (const backend of backends()) {
  describe(`endpoint URL policy on connect (${backend})`, () => {
    let t: TestHub;
    let endpoint: TestEndpoint;
    before(async () => {
      endpoint = await TestEndpoint.start();
      t = await testHub(backend, { config: { endpointLoopback: false } });
    });
    after(async () => {
      await t.close();
      await endpoint.close();
    });

    test('a stored mapping to a loopback address or name fails its copies with the reason', async () => {
      const port = new URL(endpoint.url).port;
      const stored = async (name: string, url: string) => {
        const parsed = parseMapping({ name, url, token: 'k', messages: ['acme:guard:x'] });
        assert.ok(parsed.ok);
        return t.hub.storage.createMapping(newMapping(parsed.fields, t.storeId, Date.now()));
      };
      const literal = await stored('guard.literal', `http://127.0.0.1:${port}/svc`);
      const named = await stored('guard.named', `http://localhost:${port}/svc`);
      const pushed = await t.push({ message: 'acme:guard:x', payload: {} });
      assert.equal(pushed.status, 201);
      const copies = await eventually(
        async () => {
          const list = (
            await t.get(`/api/stores/${t.storeId}/queues/accepted?parent_id=${pushed.body.message_id}`)
          ).body as { id: string; state: string; mapping_id: string }[];
          return list.length === 2 && list.every((c) => c.state === 'failing') ? list : undefined;
        },
        15_000,
        'both copies failing',
      );
      const errorOf = async (mappingId: string) => {
        const copy = copies.find((c) => c.mapping_id === mappingId)!;
        return (await t.get(`/api/stores/${t.storeId}/messages/${copy.id}`)).body.last_error as string;
      };
      assert.match(
        await errorOf(literal.id),
        /^URL_REFUSED: refused by endpoint URL policy: 127\.0\.0\.1 is loopback; endpointLoopback is false/,
      );
      assert.match(
        await errorOf(named.id),
        /^URL_REFUSED: refused by endpoint URL policy: localhost resolves only to refused addresses: .*loopback; endpointLoopback is false/,
      );
      assert.equal(endpoint.received.length, 0);
    });
  });
}

test('an endpoint.json on a refused address is not fetched, and says why', async () => {
  const endpoint = await TestEndpoint.start(() => ({ body: { services: [] } }));
  const agent = outboundAgent(new UrlPolicy({ loopback: false, allow: [], deny: [] }));
  try {
    const refused = await fetchDescriptor(endpoint.url, { dispatcher: agent });
    assert.equal(refused.ok, false);
    assert.match(
      !refused.ok ? refused.error : '',
      /could not be fetched: URL_REFUSED refused by endpoint URL policy: 127\.0\.0\.1 is loopback/,
    );
    assert.equal(endpoint.received.length, 0);
    // the same endpoint, allowed by the allow list: fetched
    const allowed = outboundAgent(new UrlPolicy({ loopback: false, allow: ['127.0.0.1'], deny: [] }));
    const fetched = await fetchDescriptor(endpoint.url, { dispatcher: allowed });
    await allowed.close();
    assert.equal(fetched.ok, true);
    assert.equal(endpoint.received.length, 1);
  } finally {
    await agent.close();
    await endpoint.close();
  }
});
