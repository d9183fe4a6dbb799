import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { eventually, TestEndpoint } from '../helpers/endpoint.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call, copyIn, createMapping } from '../helpers/mappings.js';

const order = (number: string) => ({
  message: 'order:new',
  payload: { order: { number, status: 'complete' } },
});

const archivedCopy = (t: TestHub, parentId: string) => copyIn(t, parentId, ['completed']);

for (const backend of backends()) {
  describe(`delivery (${backend})`, () => {
    let t: TestHub;
    let endpoint: TestEndpoint;
    before(async () => {
      t = await testHub(backend);
      endpoint = await TestEndpoint.start();
    });
    after(async () => {
      await t.close();
      await endpoint.close();
    });

    test('the service request: headers and body as the original hub sent them', async () => {
      endpoint.received.length = 0;
      endpoint.handler = (r) => ({ body: { message_id: r.body.message_id } });
      const mapping = await createMapping(t, {
        url: `${endpoint.url}/orders`,
        token: 'ep-secret',
        messages: ['order:new'],
        parameters: ['shop.api_key'],
      });
      const param = await call(t, 'POST', 'parameters', { name: 'shop.api_key', value: 'k-1' });
      assert.equal(param.status, 201, JSON.stringify(param.body));
      const pushed = await t.push({ ...order('R100'), channel: 'web' });
      const [req] = await endpoint.waitFor(1);
      assert.equal(req!.path, '/orders');
      assert.equal(req!.headers['x-augury-token'], 'ep-secret');
      assert.equal(req!.headers['x-hub-token'], 'ep-secret');
      assert.equal(req!.headers['x-hub-store'], t.storeId);
      assert.match(String(req!.headers['user-agent']), /^switchyard\//);
      assert.match(String(req!.headers['content-type']), /application\/json/);
      assert.equal(req!.headers['webhook-signature'], undefined);
      const body = req!.body;
      assert.equal(body.message, 'order:new');
      assert.equal(body.parent_id, pushed.body.message_id);
      assert.equal(body.store_id, t.storeId);
      assert.equal(body.channel, 'web');
      assert.deepEqual(body.payload.order, { number: 'R100', status: 'complete' });
      assert.deepEqual(body.payload.parameters, [{ name: 'shop.api_key', value: 'k-1' }]);

      const copy = await archivedCopy(t, pushed.body.message_id);
      assert.equal(copy.id, body.message_id);
      assert.equal(copy.state, 'completed');
      assert.equal(copy.source, 'accepted');
      assert.equal(copy.mapping_id, mapping.id);
      assert.equal(copy.attempts, 1);
      assert.deepEqual(copy.result, { message_id: body.message_id });
      assert.equal(copy.attempts_log.length, 1);
      assert.equal(copy.attempts_log[0].status_code, 200);
      assert.equal(copy.can_attempt, false);
      await call(t, 'DELETE', `mappings/${mapping.id}`);
    });

    test('reply messages enter the incoming queue as children and are routed on', async () => {
      endpoint.received.length = 0;
      const downstream = await TestEndpoint.start();
      try {
        endpoint.handler = (r) =>
          r.body.message === 'order:new'
            ? {
                body: {
                  message_id: r.body.message_id,
                  messages: [{ message: 'shipment:ready', payload: { shipment: { number: 'H1' } } }],
                },
              }
            : { body: {} };
        const a = await createMapping(t, { url: `${endpoint.url}/a`, messages: ['order:new'] });
        const b = await createMapping(t, { url: `${downstream.url}/b`, messages: ['shipment:ready'] });
        const pushed = await t.push(order('R200'));
        const [shipment] = await downstream.waitFor(1);
        assert.equal(shipment!.body.message, 'shipment:ready');
        const copy = await archivedCopy(t, pushed.body.message_id);
        const reply = copy.children[0];
        assert.equal(reply.message, 'shipment:ready');
        // a reply's message is routed on its own: it names no mapping
        assert.deepEqual([reply.mapping_id, reply.consumer], [null, null]);
        const replyDetail = (await call(t, 'GET', `messages/${reply.id}`)).body;
        assert.equal(replyDetail.parent_id, copy.id);
        assert.equal(replyDetail.origin, 'reply');
        assert.equal(shipment!.body.parent_id, reply.id);
        for (const m of [a, b]) await call(t, 'DELETE', `mappings/${m.id}`);
      } finally {
        await downstream.close();
      }
    });

    test('the single-message legacy reply form', async () => {
      endpoint.received.length = 0;
      endpoint.handler = (r) => ({
        body: { message_id: r.body.message_id, message: 'product:in_stock', payload: { product: { id: 7 } } },
      });
      const m = await createMapping(t, { url: `${endpoint.url}/legacy`, messages: ['order:new'] });
      const pushed = await t.push(order('R300'));
      const copy = await archivedCopy(t, pushed.body.message_id);
      assert.deepEqual(
        copy.children.map((c: { message: string }) => c.message),
        ['product:in_stock'],
      );
      await call(t, 'DELETE', `mappings/${m.id}`);
    });

    test('notifications are stored, deduplicated by occurrences, and emitted once as notification:{level}', async () => {
      endpoint.received.length = 0;
      const helpdesk = await TestEndpoint.start();
      try {
        let calls = 0;
        endpoint.handler = (r) => {
          calls++;
          const note = {
            level: 'error',
            subject: 'Address invalid',
            description: 'zip missing',
            reference_type: 'order',
            reference_token: 'R400',
          };
          // first try fails (notifications still count), the retry succeeds with the same notification
          return calls === 1
            ? { status: 500, body: { notifications: [note] } }
            : { body: { message_id: r.body.message_id, events: [note] } };
        };
        const m = await createMapping(t, {
          name: 'shipping.tracking',
          url: `${endpoint.url}/n`,
          messages: ['order:new'],
        });
        const h = await createMapping(t, {
          url: `${helpdesk.url}/tickets`,
          messages: ['notification:error'],
        });
        const pushed = await t.push(order('R400'));
        const copyId = (await copyIn(t, pushed.body.message_id, ['failing'])).id;
        const [ticket] = await helpdesk.waitFor(1);
        assert.equal(ticket!.body.message, 'notification:error');
        assert.equal(ticket!.body.source, 'shipping.tracking');
        assert.equal(ticket!.body.payload.subject, 'Address invalid');
        assert.equal((await call(t, 'PUT', `messages/${copyId}`, { attempt_now: true })).status, 200);
        const copy = await archivedCopy(t, pushed.body.message_id);
        assert.equal(copy.notifications.length, 1);
        assert.equal(copy.notifications[0].occurrences, 2);
        assert.equal(copy.notifications[0].origin, 'shipping.tracking');
        const listed = await call(
          t,
          'GET',
          'notifications?level=error&reference_type=order&reference_token=r400',
        );
        assert.equal(listed.status, 200);
        assert.equal(listed.body.length, 1);
        assert.equal(listed.body[0].subject, 'Address invalid');
        // the page and its total are read together (on SQLite, on the reader thread)
        const counted = await t.hub.app.inject({
          method: 'GET',
          url: `/api/stores/${t.storeId}/notifications?level=error`,
          headers: { 'x-augury-token': t.token },
        });
        assert.equal(counted.headers['x-total-count'], '1');
        // only one notification message, despite two occurrences
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(helpdesk.received.length, 1);
        for (const x of [m, h]) await call(t, 'DELETE', `mappings/${x.id}`);
      } finally {
        await helpdesk.close();
      }
    });

    test('parameters from a reply (list or object) are upserted and sent with the next delivery', async () => {
      endpoint.received.length = 0;
      let n = 0;
      endpoint.handler = (r) => {
        n++;
        return n === 1
          ? {
              body: {
                message_id: r.body.message_id,
                parameters: [{ name: 'poll.cursor', value: '2026-01-01' }],
              },
            }
          : {
              body: {
                message_id: r.body.message_id,
                parameters: { 'poll.cursor': '2026-02-01', 'poll.page': 2 },
              },
            };
      };
      const m = await createMapping(t, {
        url: `${endpoint.url}/p`,
        messages: ['acme:poll:run'],
        parameters: ['poll.cursor', 'poll.page'],
      });
      await t.push({ message: 'acme:poll:run', payload: {} });
      await endpoint.waitFor(1);
      await eventually(async () => (await call(t, 'GET', 'parameters/poll.cursor')).status === 200);
      await t.push({ message: 'acme:poll:run', payload: {} });
      const [, second] = await endpoint.waitFor(2);
      assert.deepEqual(second!.body.payload.parameters, [{ name: 'poll.cursor', value: '2026-01-01' }]);
      const page = await eventually(async () => {
        const p = await call(t, 'GET', 'parameters/poll.page');
        return p.status === 200 ? p.body : undefined;
      });
      assert.equal(page.value, 2);
      assert.equal(page.data_type, 'integer');
      await call(t, 'DELETE', `mappings/${m.id}`);
    });
  });
}
