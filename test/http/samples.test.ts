import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { type TestHub, testHub } from '../helpers/hub.js';

for (const backend of backends()) {
  describe(`samples (${backend})`, () => {
    let t: TestHub;
    before(async () => {
      t = await testHub(backend);
    });
    after(async () => t.close());

    test('every sample the hub serves is accepted by its own push API', async () => {
      const list = await t.get('/api/samples');
      assert.equal(list.status, 200);
      const types: string[] = list.body;
      assert.ok(types.length >= 20, `only ${types.length} samples`);
      for (const type of types) {
        const sample = await t.get(`/api/samples/${type}`);
        assert.equal(sample.status, 200, type);
        assert.equal(sample.body.message, type);
        const pushed = await t.push(sample.body);
        assert.equal(pushed.status, 201, `${type}: ${JSON.stringify(pushed.body)}`);
      }
      await t.drained();
      const seen = (await t.get('available_messages')).body;
      assert.deepEqual([...seen].sort(), [...types].sort());
    });
  });
}
