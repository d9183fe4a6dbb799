import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startHub } from '../../src/hub.js';
import { backends } from '../helpers/databases.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call, createMapping } from '../helpers/mappings.js';

interface Item {
  id: string;
  parent_id: string | null;
  mapping_id: string | null;
  consumer: string | null;
  state: string;
  queue_name: string;
}

for (const backend of backends()) {
  describe(`routing (${backend})`, () => {
    let t: TestHub;
    before(async () => {
      t = await testHub(backend);
    });
    after(async () => t.close());
    // Each test starts from a store with no mappings, so patterns of one cannot catch another's messages.
    beforeEach(async () => {
      for (const m of (await call(t, 'GET', 'mappings')).body) {
        if (m.required) await call(t, 'PUT', `mappings/${m.id}`, { required: false });
        assert.equal((await call(t, 'DELETE', `mappings/${m.id}`)).status, 204);
      }
    });

    const push = async (message: string, payload: unknown): Promise<string> => {
      const res = await t.push({ message, payload });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.message_id;
    };
    const acceptedOf = async (parentId: string): Promise<Item[]> =>
      (await t.get(`queues/accepted?parent_id=${parentId}&per_page=100`)).body;
    const consumersOf = async (parentId: string) =>
      (await acceptedOf(parentId)).map((i) => i.consumer).sort();

    test('fan-out: one copy per mapping, distinct ids, parent_id, listed as children', async () => {
      const a = await createMapping(t, { name: 'fan.a', messages: ['fan:out'] });
      const b = await createMapping(t, { name: 'fan.b', messages: ['fan:out'] });
      await createMapping(t, { name: 'fan.other', messages: ['fan:other'] });
      const id = await push('fan:out', { n: 1 });
      await t.drained();

      const copies = await acceptedOf(id);
      assert.equal(copies.length, 2);
      const ids = new Set([id, ...copies.map((c) => c.id)]);
      assert.equal(ids.size, 3, 'every copy has its own id');
      for (const c of copies) {
        assert.equal(c.parent_id, id);
        // the mappings point at a closed port: delivery may already have tried and failed once
        assert.ok(['pending', 'running', 'failing'].includes(c.state), c.state);
        assert.equal(c.queue_name, 'accepted');
      }
      assert.deepEqual(
        copies.map((c) => [c.mapping_id, c.consumer]).sort(),
        [
          [a.id, 'fan.a'],
          [b.id, 'fan.b'],
        ].sort(),
      );

      const detail = await t.get(`messages/${id}`);
      assert.equal(detail.status, 200);
      assert.equal(detail.body.queue_name, 'archived');
      assert.equal(detail.body.state, 'completed');
      assert.equal(detail.body.source, 'incoming');
      assert.deepEqual(detail.body.children.map((c: Item) => c.id).sort(), copies.map((c) => c.id).sort());
      for (const child of detail.body.children) {
        assert.equal(child.message, 'fan:out');
        assert.equal(child.queue_name, 'accepted');
        // each child names its mapping as the copy itself does
        const own = copies.find((c) => c.id === child.id)!;
        assert.deepEqual([child.mapping_id, child.consumer], [own.mapping_id, own.consumer]);
        assert.ok(child.consumer === 'fan.a' || child.consumer === 'fan.b', child.consumer);
      }
      const copy = await t.get(`messages/${copies[0]!.id}`);
      assert.deepEqual(copy.body.payload, { n: 1 });
      assert.equal(copy.body.parent_id, id);
    });

    test('type patterns: exact, whole-segment wildcards and the catch-all', async () => {
      await createMapping(t, { name: 'p.exact', messages: ['acme:new'] });
      await createMapping(t, { name: 'p.acme_any', messages: ['acme:*'] });
      await createMapping(t, { name: 'p.any_new', messages: ['*:new'] });
      await createMapping(t, { name: 'p.all', messages: ['*'] });
      await createMapping(t, { name: 'p.captured', messages: ['acme:*:captured'] });
      await createMapping(t, { name: 'p.twice', messages: ['acme:new', 'acme:*'] });
      const expectations: [string, string[]][] = [
        ['acme:new', ['p.acme_any', 'p.all', 'p.any_new', 'p.exact', 'p.twice']],
        ['acme:updated', ['p.acme_any', 'p.all', 'p.twice']],
        ['zeta:new', ['p.all', 'p.any_new']],
        ['acme:payment:captured', ['p.all', 'p.captured']],
        ['zeta:payment:captured', ['p.all']],
      ];
      const ids = [];
      for (const [type] of expectations) ids.push(await push(type, {}));
      await t.drained();
      for (const [i, [type, expected]] of expectations.entries()) {
        assert.deepEqual(await consumersOf(ids[i]!), expected, type);
      }
    });

    test('every operator with match_rule all/any on wildcard paths', async () => {
      const rows: [string, Record<string, unknown>, boolean][] = [
        ['eq_any', { path: 'payload.items.*.sku', operator: 'eq', value: 'ROR-2', match_rule: 'any' }, true],
        ['eq_all', { path: 'payload.items.*.sku', operator: 'eq', value: 'ROR-2' }, false],
        ['eq_number_as_string', { path: 'payload.total', operator: 'eq', value: '15.5' }, true],
        ['eq_unicode', { path: 'payload.tag', operator: 'eq', value: 'Zürich ✓' }, true],
        ['neq_all', { path: 'payload.items.*.sku', operator: 'neq', value: 'ROR-3' }, true],
        ['neq_all_fails', { path: 'payload.items.*.sku', operator: 'neq', value: 'ROR-1' }, false],
        [
          'neq_any',
          { path: 'payload.items.*.sku', operator: 'neq', value: 'ROR-1', match_rule: 'any' },
          true,
        ],
        ['neq_missing', { path: 'payload.nothing', operator: 'neq', value: 'x' }, false],
        ['gt_all', { path: 'payload.items.*.qty', operator: 'gt', value: 1 }, true],
        ['gt_all_fails', { path: 'payload.items.*.qty', operator: 'gt', value: 2 }, false],
        ['gt_any', { path: 'payload.items.*.qty', operator: 'gt', value: '2', match_rule: 'any' }, true],
        ['lt_strings_as_numbers', { path: 'payload.items.*.price', operator: 'lt', value: 11 }, true],
        ['lt_all_fails', { path: 'payload.items.*.price', operator: 'lt', value: 10 }, false],
        ['lt_any', { path: 'payload.items.*.price', operator: 'lt', value: 10, match_rule: 'any' }, true],
        ['lt_not_a_number', { path: 'payload.tag', operator: 'lt', value: 10, match_rule: 'any' }, false],
        ['begin_all', { path: 'payload.items.*.sku', operator: 'begin', value: 'ROR-' }, true],
        ['begin_all_fails', { path: 'payload.items.*.sku', operator: 'begin', value: 'ROR-2' }, false],
        [
          'begin_any',
          { path: 'payload.items.*.sku', operator: 'begin', value: 'ROR-2', match_rule: 'any' },
          true,
        ],
        ['contains_all', { path: 'payload.items.*.sku', operator: 'contains', value: 'OR' }, true],
        ['contains_all_fails', { path: 'payload.items.*.sku', operator: 'contains', value: '-2' }, false],
        [
          'contains_any',
          { path: 'payload.items.*.sku', operator: 'contains', value: '-2', match_rule: 'any' },
          true,
        ],
        ['end_all_fails', { path: 'payload.items.*.sku', operator: 'end', value: '-1' }, false],
        ['end_any', { path: 'payload.items.*.sku', operator: 'end', value: '-1', match_rule: 'any' }, true],
        ['present_all_fails', { path: 'payload.items.*.note', operator: 'present' }, false],
        ['present_any', { path: 'payload.items.*.note', operator: 'present', match_rule: 'any' }, true],
        ['present_missing', { path: 'payload.nothing', operator: 'present' }, false],
        ['present_string_null', { path: 'payload.nullish', operator: 'present' }, false],
        ['empty_all_fails', { path: 'payload.items.*.note', operator: 'empty' }, false],
        ['empty_any', { path: 'payload.items.*.note', operator: 'empty', match_rule: 'any' }, true],
        ['empty_missing', { path: 'payload.nothing', operator: 'empty' }, true],
        ['empty_blank', { path: 'payload.email', operator: 'empty' }, true],
        ['match_all', { path: 'payload.items.*.sku', operator: 'match', value: '^ROR-\\d$' }, true],
        ['match_all_fails', { path: 'payload.items.*.sku', operator: 'match', value: '-2$' }, false],
        [
          'match_any_flags',
          { path: 'payload.items.*.sku', operator: 'match', value: '/^ror-2$/i', match_rule: 'any' },
          true,
        ],
        ['object_values', { path: 'payload.prices.*', operator: 'gt', value: 0 }, true],
        [
          'nested_wildcards',
          { path: 'payload.boxes.*.items.*.sku', operator: 'eq', value: 'B-2', match_rule: 'any' },
          true,
        ],
        ['root_message', { path: 'message', operator: 'eq', value: 'ops:check' }, true],
        ['root_extra_field', { path: 'source', operator: 'eq', value: 'tests' }, true],
      ];
      for (const [name, filter] of rows) {
        await createMapping(t, { name: `op.${name}`, messages: ['ops:check'], filters: [filter] });
      }
      const res = await t.push({
        message: 'ops:check',
        source: 'tests',
        payload: {
          items: [
            { sku: 'ROR-1', qty: 2, price: '10.5', note: null },
            { sku: 'ROR-2', qty: 5, price: '3', note: 'fragile' },
          ],
          boxes: [{ items: [{ sku: 'B-1' }] }, { items: [{ sku: 'B-2' }, { sku: 'B-3' }] }],
          prices: { small: 1, large: 2.5 },
          total: 15.5,
          tag: 'Zürich ✓',
          email: '',
          nullish: 'null',
        },
      });
      assert.equal(res.status, 201);
      await t.drained();
      const expected = rows
        .filter(([, , takes]) => takes)
        .map(([name]) => `op.${name}`)
        .sort();
      assert.deepEqual(await consumersOf(res.body.message_id), expected);
    });

    test("the original's worked example: filtered until released, taken once, then duplicate", async () => {
      const mapping = await createMapping(t, {
        name: 'shipwire.ship',
        messages: ['shipment:ready'],
        filters: [{ path: 'payload.shipment.released_at', operator: 'present' }],
        identifiers: { shipment: 'payload.shipment.number' },
      });
      const shipment = { number: 'H123456', order_number: 'R123' };
      const first = await push('shipment:ready', { shipment });
      await t.drained();
      const firstDetail = (await t.get(`messages/${first}`)).body;
      assert.equal(firstDetail.state, 'skipped');
      assert.equal(firstDetail.reason, 'filtered');
      assert.deepEqual(firstDetail.children, []);

      const released = { shipment: { ...shipment, released_at: '2014-02-03T17:33:55Z' } };
      const second = await push('shipment:ready', released);
      await t.drained();
      const taken = await acceptedOf(second);
      assert.equal(taken.length, 1);
      assert.equal(taken[0]!.mapping_id, mapping.id);
      assert.equal((await t.get(`messages/${second}`)).body.state, 'completed');

      const third = await push('shipment:ready', released);
      await t.drained();
      assert.deepEqual(await acceptedOf(third), []);
      const thirdDetail = (await t.get(`messages/${third}`)).body;
      assert.equal(thirdDetail.state, 'skipped');
      assert.equal(thirdDetail.reason, 'duplicate');
      assert.equal(thirdDetail.children.length, 1);
      const skipped = await t.get(`queues/archived?source=accepted&state=skipped&parent_id=${third}`);
      assert.equal(skipped.body.length, 1);
      assert.equal(skipped.body[0].mapping_id, mapping.id);
      assert.equal(skipped.body[0].consumer, 'shipwire.ship');
      assert.equal((await t.get(`messages/${skipped.body[0].id}`)).body.reason, 'duplicate');
      const all = await t.get(`queues/archived?source=accepted&state=skipped&mapping_id=${mapping.id}`);
      assert.equal(all.headers['x-total-count'], '1', 'only the third was a duplicate');

      const explained = await call(t, 'POST', 'route/explain', {
        message: 'shipment:ready',
        payload: released,
      });
      const decision = explained.body.decisions.find((d: { name: string }) => d.name === 'shipwire.ship');
      assert.equal(decision.takes, false);
      assert.equal(decision.reason, 'duplicate');
      assert.match(decision.identifier_key, /^[0-9a-f]{64}$/);
    });

    test('a disabled mapping takes nothing; enabling it takes effect at once', async () => {
      const m = await createMapping(t, { name: 'dis.abled', messages: ['dis:abled'], enabled: false });
      const before = await push('dis:abled', {});
      await t.drained();
      const detail = (await t.get(`messages/${before}`)).body;
      assert.equal(detail.state, 'skipped');
      assert.equal(detail.reason, 'no mapping');
      assert.deepEqual(detail.children, []);
      const explained = await call(t, 'POST', 'route/explain', { message: 'dis:abled', payload: {} });
      assert.deepEqual(explained.body.decisions, [
        { mapping_id: m.id, name: 'dis.abled', takes: false, reason: 'disabled' },
      ]);

      assert.equal((await call(t, 'PUT', `mappings/${m.id}`, { enabled: true })).status, 200);
      const afterId = await push('dis:abled', {});
      await t.drained();
      assert.deepEqual(await consumersOf(afterId), ['dis.abled']);
    });

    test('an unmapped message is archived as skipped', async () => {
      await createMapping(t, { name: 'someone.else', messages: ['other:type'] });
      const id = await push('nobody:cares', { x: 1 });
      await t.drained();
      const detail = (await t.get(`messages/${id}`)).body;
      assert.equal(detail.queue_name, 'archived');
      assert.equal(detail.source, 'incoming');
      assert.equal(detail.state, 'skipped');
      assert.equal(detail.reason, 'no mapping');
      assert.deepEqual(detail.children, []);
      const skipped = await t.get(`queues/archived?source=incoming&state=skipped&message=nobody:cares`);
      assert.equal(skipped.body.length, 1);
    });

    test('a deleted mapping takes nothing more', async () => {
      const m = await createMapping(t, { name: 'gone.soon', messages: ['gone:soon'] });
      assert.equal((await call(t, 'DELETE', `mappings/${m.id}`)).status, 204);
      const id = await push('gone:soon', {});
      await t.drained();
      assert.equal((await t.get(`messages/${id}`)).body.reason, 'no mapping');
    });

    test('a change made through another process is picked up by the version check', async () => {
      // A second hub on the same database, API only: its writes cannot call this hub's invalidate.
      const other = await startHub({ ...t.config, role: 'api' }, { listen: false });
      try {
        const warm = await push('remote:made', {});
        await t.drained();
        assert.equal((await t.get(`messages/${warm}`)).body.reason, 'no mapping');
        const res = await other.app.inject({
          method: 'POST',
          url: `/api/stores/${t.storeId}/mappings`,
          headers: { 'x-augury-token': t.token, 'content-type': 'application/json' },
          payload: JSON.stringify({
            name: 'remote.made',
            url: 'http://127.0.0.1:9/x',
            token: 'k',
            messages: ['remote:made'],
          }),
        });
        assert.equal(res.statusCode, 201);
        await new Promise((r) => setTimeout(r, 2100));
        const id = await push('remote:made', {});
        await t.drained();
        assert.deepEqual(await consumersOf(id), ['remote.made']);
      } finally {
        await other.close();
      }
    });

    test('explain: every mapping, the failing filter with the values it saw, and stores nothing', async () => {
      const taker = await createMapping(t, {
        name: 'x.taker',
        messages: ['order:*'],
        options: { ordering_key: 'payload.order.number' },
      });
      const picky = await createMapping(t, {
        name: 'x.picky',
        messages: ['order:new'],
        filters: [
          { path: 'payload.order.status', operator: 'eq', value: 'complete' },
          { path: 'payload.order.line_items.*.quantity', operator: 'gt', value: 3 },
        ],
      });
      const wrongType = await createMapping(t, { name: 'x.stock', messages: ['stock:change'] });
      const long = await createMapping(t, {
        name: 'x.long',
        messages: ['order:new'],
        filters: [{ path: 'payload.order.line_items.*.sku', operator: 'begin', value: 'Z' }],
      });
      const lineItems = Array.from({ length: 30 }, (_, i) => ({ sku: `S${i}`, quantity: i === 0 ? 2 : 5 }));
      // every message the store has, in any queue and state: earlier tests' copies still move
      // between states (a retry, an archive), but explain must add none
      const total = async () =>
        Object.values((await t.get('queues')).body as Record<string, number>).reduce((a, b) => a + b, 0);
      const countsBefore = await total();
      const res = await call(t, 'POST', 'route/explain', {
        message: 'order:new',
        payload: { order: { number: 'R100', status: 'complete', line_items: lineItems } },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.message, 'order:new');
      const byName = Object.fromEntries(res.body.decisions.map((d: { name: string }) => [d.name, d]));
      assert.deepEqual(Object.keys(byName).sort(), ['x.long', 'x.picky', 'x.stock', 'x.taker']);
      assert.deepEqual(byName['x.taker'], {
        mapping_id: taker.id,
        name: 'x.taker',
        takes: true,
        reason: null,
        ordering_key: 'R100',
      });
      assert.deepEqual(byName['x.stock'], {
        mapping_id: wrongType.id,
        name: 'x.stock',
        takes: false,
        reason: 'type',
      });
      assert.equal(byName['x.picky'].mapping_id, picky.id);
      assert.equal(byName['x.picky'].reason, 'filter');
      assert.equal(byName['x.picky'].takes, false);
      assert.deepEqual(byName['x.picky'].filter, {
        index: 1,
        path: 'payload.order.line_items.*.quantity',
        operator: 'gt',
        value: 3,
        match_rule: 'all',
        seen: lineItems.slice(0, 20).map((i) => i.quantity),
        seen_count: 30,
      });
      assert.equal(byName['x.long'].mapping_id, long.id);
      assert.equal(byName['x.long'].filter.seen.length, 20);
      assert.equal(byName['x.long'].filter.seen[0], 'S0');
      assert.equal(await total(), countsBefore, 'explain stores nothing');

      const bad = await call(t, 'POST', 'route/explain', { message: 'Order New', payload: [] });
      assert.equal(bad.status, 422);
      assert.deepEqual(Object.keys(bad.body.errors).sort(), ['/message', '/payload']);
    });
  });
}
