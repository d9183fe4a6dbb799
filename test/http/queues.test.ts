import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { type TestHub, testHub } from '../helpers/hub.js';

for (const backend of backends()) {
  describe(`queues and messages (${backend})`, () => {
    let t: TestHub;
    const ids: string[] = [];
    before(async () => {
      t = await testHub(backend);
      for (let i = 0; i < 30; i++) {
        const type = i % 3 === 0 ? 'stock:change' : 'acme:ping:sent';
        const payload = type === 'stock:change' ? { sku: `S${i}`, quantity: i } : { i };
        ids.push((await t.push({ message: type, payload })).body.message_id);
      }
      await t.drained();
    });
    after(async () => t.close());

    test('counts: all seven, unmapped messages end skipped in the archive', async () => {
      const res = await t.get('queues');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        incoming: 0,
        pending: 0,
        running: 0,
        failing: 0,
        scheduled: 0,
        parked: 0,
        archived: 30,
      });
    });

    test('archived lists completed only unless state or source is given', async () => {
      const plain = await t.get('queues/archived');
      assert.equal(plain.status, 200);
      assert.deepEqual(plain.body, []);
      assert.equal(plain.headers['x-total-count'], '0');
      const skipped = await t.get('queues/archived?state=skipped');
      assert.equal(skipped.headers['x-total-count'], '30');
      assert.equal(skipped.body.length, 25);
      const bySource = await t.get('queues/archived?source=incoming');
      assert.equal(bySource.headers['x-total-count'], '30');
    });

    test('newest first, 25 a page, pagination headers', async () => {
      const p1 = await t.get('queues/archived?state=skipped');
      assert.equal(p1.body[0].id, ids[29]);
      assert.equal(p1.headers['x-page'], '1');
      assert.equal(p1.headers['x-per-page'], '25');
      assert.match(String(p1.headers.link), /rel="next"/);
      assert.match(String(p1.headers.link), /page=2/);
      const p2 = await t.get('queues/archived?state=skipped&page=2');
      assert.equal(p2.body.length, 5);
      assert.equal(p2.body[4].id, ids[0]);
      assert.doesNotMatch(String(p2.headers.link), /rel="next"/);
      const small = await t.get('queues/archived?state=skipped&per_page=10&page=3');
      assert.equal(small.body.length, 10);
    });

    test('queue item fields', async () => {
      const res = await t.get(`queues/archived?state=skipped&message_id=${ids[0]}`);
      assert.equal(res.body.length, 1);
      const item = res.body[0];
      for (const key of [
        'id',
        'message',
        'state',
        'queue_name',
        'source',
        'parent_id',
        'mapping_id',
        'consumer',
        'attempts',
        'created_at',
        'attempt_at',
        'completed_at',
        'locked_at',
      ]) {
        assert.ok(key in item, key);
      }
      assert.equal(item.queue_name, 'archived');
      assert.equal(item.source, 'incoming');
      assert.equal(item.state, 'skipped');
    });

    test('filters: message, dates, mapping and parent', async () => {
      const stock = await t.get('queues/archived?state=skipped&message=stock:change');
      assert.equal(stock.headers['x-total-count'], '10');
      assert.ok(stock.body.every((m: { message: string }) => m.message === 'stock:change'));
      const future = await t.get(
        `queues/archived?state=skipped&start_date=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      );
      assert.equal(future.headers['x-total-count'], '0');
      const past = await t.get(
        'queues/archived?state=skipped&start_date=2020-01-01&end_date=2999-01-01T00:00:00Z',
      );
      assert.equal(past.headers['x-total-count'], '30');
      const none = await t.get('queues/accepted?mapping_id=nope');
      assert.deepEqual(none.body, []);
      const orphans = await t.get('queues/archived?state=skipped&parent_id=nope');
      assert.equal(orphans.headers['x-total-count'], '0');
    });

    test('422 on bad filters, 404 on an unknown queue', async () => {
      for (const date of ['yesterday', '1', '0', 'March%207', '2026-13-45', '2026-11-28T25:00Z']) {
        const badDate = await t.get(`queues/archived?start_date=${date}`);
        assert.equal(badDate.status, 422, date);
        assert.ok(badDate.body.errors['/query/start_date'], date);
      }
      for (const date of [
        '2026-11-28',
        '2026-11-28T17:38',
        '2026-11-28T17:38:10.5Z',
        '2026-11-28T17:38:10%2B01:00',
      ])
        assert.equal((await t.get(`queues/archived?end_date=${date}`)).status, 200, date);
      const badState = await t.get('queues/accepted?state=sleeping');
      assert.equal(badState.status, 422);
      assert.ok(badState.body.errors['/query/state']);
      const badPage = await t.get('queues/accepted?per_page=1000');
      assert.equal(badPage.status, 422);
      // a page whose row offset would not fit a 64-bit integer (it was a 500)
      for (const path of [
        'queues/archived?page=1e20',
        'queues/archived?page=400000000000000000',
        'notifications?page=1e20',
      ]) {
        const huge = await t.get(path);
        assert.equal(huge.status, 422, path);
        assert.ok(huge.body.errors['/query/page'], path);
      }
      assert.equal((await t.get('queues/archived?page=1000000')).status, 200);
      const unknown = await t.get('queues/outgoing');
      assert.equal(unknown.status, 404);
      // errors raised before routing come from the catalog too
      const badEncoding = await t.get('messages/%E0%A4%A');
      assert.equal(badEncoding.status, 400);
      assert.deepEqual(badEncoding.body, {
        error: 'Request URL is not valid: a path segment is not properly percent-encoded.',
      });
      const tooLong = await t.get(`messages/${'a'.repeat(600)}`);
      assert.equal(tooLong.status, 414);
      assert.deepEqual(tooLong.body, {
        error: 'A path segment of the request URL is longer than 500 characters.',
      });
    });

    test('message detail, 404 for an unknown id', async () => {
      const res = await t.get(`messages/${ids[3]}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.message, 'stock:change');
      assert.deepEqual(res.body.payload, { sku: 'S3', quantity: 3 });
      assert.deepEqual(res.body.children, []);
      assert.equal(res.body.reason, 'no mapping');
      assert.equal(res.body.can_attempt, false);
      const missing = await t.get('messages/0190a000-0000-7000-8000-000000000000');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: 'Message not found.' });
    });

    test('available_messages lists the types seen', async () => {
      const res = await t.get('available_messages');
      assert.deepEqual(res.body, ['acme:ping:sent', 'stock:change']);
    });
  });
}
