import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/ids.js';
import { copyRow, incomingRow, storedRow } from '../../src/storage/sql-messages.js';
import type { SqlStorage } from '../../src/storage/sql-storage.js';
import { backends } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call, copyIn, createMapping } from '../helpers/mappings.js';
import { newIncoming } from '../helpers/messages.js';

let seq = 0;
const order = () => ({ message: 'order:new', payload: { order: { number: `F${++seq}` } } });

/** Pushes one order and waits for its accepted copy to reach one of `states`; returns its detail. */
async function settled(t: TestHub, states: string[]) {
  const pushed = await t.push(order());
  return copyIn(t, pushed.body.message_id, states);
}

for (const backend of backends()) {
  describe(`delivery failures and manual actions (${backend})`, () => {
    let t: TestHub;
    let endpoint: TestEndpoint;
    let mapping: any;
    const useMapping = async (over: Record<string, unknown>) => {
      if (mapping) await call(t, 'DELETE', `mappings/${mapping.id}`);
      mapping = await createMapping(t, { url: `${endpoint.url}/svc`, messages: ['order:new'], ...over });
    };
    before(async () => {
      t = await testHub(backend);
      endpoint = await TestEndpoint.start();
    });
    after(async () => {
      await t.close();
      await endpoint.close();
    });

    test('a 500 makes the copy failing, retried after the backoff; attempt_now retries at once', async () => {
      await useMapping({});
      let n = 0;
      endpoint.handler = () => (++n === 1 ? { status: 500, body: { error: 'database down' } } : { body: {} });
      const before = Date.now();
      const copy = await settled(t, ['failing']);
      assert.equal(copy.attempts, 1);
      assert.match(copy.last_error, /HTTP 500.*database down/);
      assert.equal(copy.can_attempt, true);
      const next = Date.parse(copy.next_attempt_at) - before;
      assert.ok(next >= 12_000 && next <= 18_000 + 5_000, `next attempt in ${next} ms`);
      assert.equal(copy.attempts_log[0].status_code, 500);
      assert.match(copy.attempts_log[0].response_excerpt, /database down/);
      const retried = await call(t, 'PUT', `messages/${copy.id}?attempt_now=true`);
      assert.equal(retried.status, 200);
      const done = await eventually(async () => {
        const d = (await call(t, 'GET', `messages/${copy.id}`)).body;
        return d.state === 'completed' ? d : undefined;
      });
      assert.equal(done.attempts, 2);
      assert.equal(done.attempts_log.length, 2);
    });

    test('410 Gone parks; retries_allowed false parks; max_attempts parks', async () => {
      await useMapping({});
      endpoint.handler = () => ({ status: 410 });
      const gone = await settled(t, ['parked']);
      assert.match(gone.reason, /410/);
      await useMapping({ options: { retries_allowed: false } });
      endpoint.handler = () => ({ status: 502 });
      const noRetry = await settled(t, ['parked']);
      assert.equal(noRetry.reason, 'retries not allowed');
      await useMapping({ options: { max_attempts: 1 } });
      const maxed = await settled(t, ['parked']);
      assert.match(maxed.reason, /max_attempts/);
      assert.equal(maxed.next_attempt_at, null);
    });

    test('Retry-After on 429 replaces the schedule', async () => {
      await useMapping({});
      endpoint.handler = () => ({ status: 429, headers: { 'retry-after': '120' } });
      const before = Date.now();
      const copy = await settled(t, ['failing']);
      const next = Date.parse(copy.next_attempt_at) - before;
      assert.ok(next >= 119_000 && next <= 125_000, `next attempt in ${next} ms`);
    });

    test('a timeout, a refused connection and a 2xx announcing bad JSON are failures', async () => {
      await useMapping({ options: { timeout_ms: 300 } });
      endpoint.handler = () => ({ delayMs: 1500, body: {} });
      const slow = await settled(t, ['failing']);
      assert.match(slow.last_error, /timed out after 300 ms/);
      assert.equal(slow.attempts_log[0].status_code, null);

      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as { port: number }).port;
      await new Promise<void>((r) => closed.close(() => r()));
      await useMapping({ url: `http://127.0.0.1:${port}/nothing` });
      const refused = await settled(t, ['failing']);
      assert.match(refused.last_error, /ECONNREFUSED/);

      await useMapping({});
      endpoint.handler = () => ({ body: '<html>not json</html>' });
      const bad = await settled(t, ['failing']);
      assert.match(bad.last_error, /announced JSON/);
    });

    test('archive by hand releases the identifier key; edit-and-retry re-validates a parked payload', async () => {
      await useMapping({
        identifiers: { number: 'payload.order.number' },
        options: { retries_allowed: false },
      });
      endpoint.handler = () => ({ status: 500 });
      const first = await t.push({ message: 'order:new', payload: { order: { number: 'DUP-1' } } });
      const parked = await copyIn(t, first.body.message_id, ['parked']);
      // the key is held: an identical order is a duplicate
      const dup = await t.push({ message: 'order:new', payload: { order: { number: 'DUP-1' } } });
      await t.drained();
      const dupDetail = (await call(t, 'GET', `messages/${dup.body.message_id}`)).body;
      assert.equal(dupDetail.state, 'skipped');
      assert.equal(dupDetail.reason, 'duplicate');

      const badEdit = await call(t, 'PUT', `messages/${parked.id}`, { payload: { order: {} } });
      assert.equal(badEdit.status, 422);
      assert.ok(badEdit.body.errors['/payload/order/number']);
      const archived = await call(t, 'PUT', `messages/${parked.id}`, { archive: true });
      assert.equal(archived.status, 200);
      assert.equal(archived.body.state, 'never_processed');
      assert.equal(archived.body.queue_name, 'archived');
      const again = await call(t, 'PUT', `messages/${parked.id}`, { archive: true });
      assert.equal(again.status, 422);

      // released: the same order is taken again
      const third = await t.push({ message: 'order:new', payload: { order: { number: 'DUP-1' } } });
      await t.drained();
      assert.equal((await call(t, 'GET', `messages/${third.body.message_id}`)).body.state, 'completed');

      const parked2 = await copyIn(t, third.body.message_id, ['parked']);
      endpoint.handler = (r) => ({ body: { message_id: r.body.message_id } });
      const edited = await call(t, 'PUT', `messages/${parked2.id}`, {
        payload: { order: { number: 'DUP-1', note: 'fixed' } },
      });
      assert.equal(edited.status, 200);
      const done = await eventually(async () => {
        const d = (await call(t, 'GET', `messages/${parked2.id}`)).body;
        return d.state === 'completed' ? d : undefined;
      });
      assert.deepEqual(done.payload, { order: { number: 'DUP-1', note: 'fixed' } });
      assert.equal(endpoint.received.at(-1)!.body.payload.order.note, 'fixed');
    });

    test('bulk retry and archive take the listing filters and answer how many', async () => {
      await useMapping({ options: { retries_allowed: false } });
      endpoint.handler = () => ({ status: 500 });
      for (let i = 0; i < 3; i++) await settled(t, ['parked']);
      const before = (await call(t, 'GET', `queues/accepted?state=parked&mapping_id=${mapping.id}`)).body
        .length;
      assert.equal(before, 3);
      endpoint.handler = (r) => ({ body: { message_id: r.body.message_id } });
      const retried = await call(t, 'POST', `messages/retry?state=parked&mapping_id=${mapping.id}`);
      assert.deepEqual(retried.body, { affected: 3 });
      await eventually(
        async () => (await call(t, 'GET', `queues/accepted?mapping_id=${mapping.id}`)).body.length === 0,
      );
      endpoint.handler = () => ({ status: 500 });
      for (let i = 0; i < 2; i++) await settled(t, ['parked']);
      // a misspelt filter is refused, not ignored (ignored, it would archive every message)
      const typo = await call(t, 'POST', `messages/archive?mapping=${mapping.id}`);
      assert.equal(typo.status, 422);
      assert.ok(typo.body.errors['/query/mapping'], JSON.stringify(typo.body));
      const typoInBody = await call(t, 'POST', 'messages/archive', { mappingId: mapping.id });
      assert.equal(typoInBody.status, 422);
      assert.ok(typoInBody.body.errors['/mappingId'], JSON.stringify(typoInBody.body));
      const paged = await call(t, 'POST', `messages/archive?mapping_id=${mapping.id}&page=2`);
      assert.equal(paged.status, 422, 'a bulk action acts on every match: no page');
      const disagree = await call(t, 'POST', `messages/archive?mapping_id=${mapping.id}`, {
        mapping_id: 'another',
      });
      assert.equal(disagree.status, 422);
      assert.ok(disagree.body.errors['/mapping_id']);
      assert.equal(
        (await call(t, 'GET', `queues/accepted?state=parked&mapping_id=${mapping.id}`)).body.length,
        2,
        'the refused requests changed nothing',
      );
      // the filters may come as a JSON body too
      const archived = await call(t, 'POST', 'messages/archive', { mapping_id: mapping.id });
      assert.deepEqual(archived.body, { affected: 2 });
      const never = await call(t, 'GET', `queues/archived?state=never_processed&mapping_id=${mapping.id}`);
      assert.equal(never.body.length, 2);
    });

    test('a copy left without its payload (its parent deleted by hand) is parked, not released again and again', async () => {
      await useMapping({});
      const sent: any[] = [];
      endpoint.handler = (r) => {
        sent.push(r.body);
        return { body: {} };
      };
      // a damaged database: the copy's payload lives in its parent's row, which is gone
      const orphan = copyRow(
        incomingRow(newIncoming(t.storeId, 'order:new', '{"order":{}}')),
        { id: newId(), mapping_id: mapping.id, consumer: mapping.name, ordering_key: null },
        Date.now(),
        false,
      );
      await (t.hub.storage as SqlStorage).db.insertInto('messages').values(storedRow(orphan)).execute();
      const parked = await eventually(async () => {
        const d = (await call(t, 'GET', `messages/${orphan.id}`)).body;
        return d.state === 'parked' ? d : undefined;
      });
      assert.match(parked.reason, /payload of this message is missing/);
      assert.equal(sent.length, 0, 'nothing was sent to the endpoint');
      // given a payload of its own, it is sent
      const edited = await call(t, 'PUT', `messages/${orphan.id}`, { payload: { order: { number: 'O1' } } });
      assert.equal(edited.status, 200);
      await eventually(async () => sent.length === 1);
      assert.equal(sent[0].message_id, orphan.id);
      assert.equal(sent[0].payload.order.number, 'O1');
    });

    test('bad actions answer 422 and change nothing; unknown message 404', async () => {
      const pushed = await t.push({ message: 'acme:none:x', payload: {} });
      await t.drained();
      const none = await call(t, 'PUT', `messages/${pushed.body.message_id}`, { attempt_now: true });
      assert.equal(none.status, 422);
      assert.equal((await call(t, 'PUT', `messages/${pushed.body.message_id}`, { fly: true })).status, 422);
      assert.equal((await call(t, 'PUT', `messages/${pushed.body.message_id}`, {})).status, 422);
      const yes = await call(t, 'PUT', `messages/${pushed.body.message_id}`, { attempt_now: 'yes' });
      assert.deepEqual(yes.body.errors, { '/attempt_now': ['must be true'] });
      const yesQuery = await call(t, 'PUT', `messages/${pushed.body.message_id}?archive=1`);
      assert.deepEqual(yesQuery.body.errors, { '/query/archive': ['must be true'] });
      assert.equal(
        (await call(t, 'PUT', 'messages/0190a000-0000-7000-8000-000000000000', { archive: true })).status,
        404,
      );
    });
  });
}
