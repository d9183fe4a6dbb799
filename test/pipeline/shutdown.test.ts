import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { TestEndpoint } from '../helpers/endpoint.js';
import { testHub } from '../helpers/hub.js';
import { createMapping } from '../helpers/mappings.js';

for (const backend of backends()) {
  describe(`shutdown (${backend})`, () => {
    test('a delivery still in flight when the grace runs out is aborted and handed back uncounted', async () => {
      const t = await testHub(backend, { workers: { shutdownGraceMs: 200 } });
      const endpoint = await TestEndpoint.start(() => ({ delayMs: 5000, body: {} }));
      try {
        await createMapping(t, { url: `${endpoint.url}/slow`, messages: ['order:new'] });
        const pushed = await t.push({ message: 'order:new', payload: { order: { number: 'S1' } } });
        await endpoint.waitFor(1);
        const started = Date.now();
        await t.hub.close();
        assert.ok(Date.now() - started < 3000, 'close waited for the grace, not for the endpoint');
        const parent = (await t.hub.storage.getMessage(t.storeId, pushed.body.message_id))!;
        const [copy] = await t.hub.storage.children(t.storeId, parent.id);
        const detail = (await t.hub.storage.getMessage(t.storeId, copy!.id))!;
        assert.equal(detail.queue_name, 'accepted');
        assert.equal(detail.state, 'pending');
        assert.equal(detail.attempts, 0, 'an aborted delivery is not an attempt');
      } finally {
        await t.close();
        await endpoint.close();
      }
    });
  });
}
