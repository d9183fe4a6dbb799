import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { testHub } from '../helpers/hub.js';
import { createMapping } from '../helpers/mappings.js';

/**
 * Copies with one ordering key go one at a time: each becomes due when the one before it has been
 * settled. The engine leases the next at that moment, not at its next poll — here the poll is a
 * minute away, so a chain that waited for it would not get past its first copy.
 */
for (const backend of backends()) {
  test(`the next copy with an ordering key goes out when the one before is settled (${backend})`, async () => {
    const t = await testHub(backend, { workers: { deliveryPollMs: 60_000 } });
    const endpoint = await TestEndpoint.start(() => ({ delayMs: 5, body: {} }));
    try {
      await createMapping(t, {
        url: `${endpoint.url}/stock`,
        messages: ['stock:change'],
        options: { ordering_key: 'payload.sku' },
      });
      for (let seq = 0; seq < 6; seq++)
        await t.push({ message: 'stock:change', payload: { sku: 'A', quantity: seq, seq } });
      await eventually(async () => endpoint.received.length === 6, 10_000);
      assert.deepEqual(
        endpoint.received.map((r) => r.body.payload.seq),
        [0, 1, 2, 3, 4, 5],
      );
    } finally {
      await t.close();
      await endpoint.close();
    }
  });
}
