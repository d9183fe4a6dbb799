import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { eventually, type Reply, TestEndpoint } from '../helpers/endpoint.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call } from '../helpers/mappings.js';

/** An endpoint.json the way real endpoints wrote them: unknown keys, old names, a misspelling. */
function descriptor(over: Record<string, unknown> = {}) {
  return {
    name: 'shop',
    display: 'Shop',
    description: 'A test endpoint',
    icon_url: '/logo.png',
    help: 'https://example.com/help',
    services: [
      {
        name: 'orders',
        path: '/orders',
        description: 'Sends orders to the shop',
        requires: {
          parameters: [
            { name: 'api_key', description: 'Your key', data_type: 'string' },
            { name: 'region', data_type: 'string', default: 'eu', allowed: ['eu', 'us'] },
            { name: 'batch', data_type: 'integer', default: '10', optional: true },
          ],
        },
        recommends: {
          messages: ['order:new'],
          identifiers: { order: 'payload.order.number' },
          filters: [{ path: 'payload.order.status', operator: 'eq', value: 'complete' }],
          options: { retries_allowed: false },
        },
        produces: { messages: [{ message: 'order:confirmed' }] },
      },
      {
        name: 'shipments',
        path: 'shipments',
        requires: { paramaters: [{ name: 'api_key' }], sku: 'bare keys are ignored' },
        recommends: {
          keys: ['shipment=>ready'],
          event_key: { shipment: 'payload.shipment.number' },
          options: { allow_retries: true },
        },
      },
    ],
    ...over,
  };
}

for (const backend of backends()) {
  describe(`integrations (${backend})`, () => {
    let t: TestHub;
    let endpoint: TestEndpoint;
    let served: unknown = descriptor();
    let special: ((path: string) => Reply | undefined) | undefined;

    before(async () => {
      t = await testHub(backend);
      endpoint = await TestEndpoint.start((r) => {
        const custom = special?.(r.path);
        if (custom) return custom;
        if (r.path === '/endpoint.json') return { body: served };
        return { body: { message_id: r.body?.message_id } };
      });
    });
    after(async () => {
      await t.close();
      await endpoint.close();
    });

    const register = (name: string, over: Record<string, unknown> = {}) =>
      call(t, 'POST', 'integrations', { name, url: endpoint.url, token: 'endpoint-key', ...over });

    test('discovery: endpoint.json is fetched, read leniently and normalised', async () => {
      served = descriptor();
      const res = await register('shop', { category: 'commerce' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const i = res.body;
      assert.equal(i.status, 'ready');
      assert.equal(i.error_messages, null);
      assert.deepEqual(i.warnings, []);
      assert.equal(i.display, 'Shop');
      assert.equal(i.category, 'commerce');
      assert.equal(i.token, 'endpoint-key');
      assert.deepEqual(
        i.services.map((s: any) => [s.name, s.path]),
        [
          ['orders', '/orders'],
          ['shipments', '/shipments'],
        ],
      );
      const [orders, shipments] = i.services;
      assert.deepEqual(orders.parameters[2], {
        name: 'batch',
        description: null,
        data_type: 'integer',
        default: 10,
        allowed: null,
        optional: true,
      });
      assert.deepEqual(orders.recommends.filters, [
        { path: 'payload.order.status', operator: 'eq', value: 'complete', match_rule: 'all' },
      ]);
      assert.deepEqual(
        shipments.parameters.map((p: any) => p.name),
        ['api_key'],
      );
      assert.deepEqual(shipments.recommends, {
        messages: ['shipment:ready'],
        identifiers: { shipment: 'payload.shipment.number' },
        filters: [],
        options: { retries_allowed: true },
      });

      const list = await call(t, 'GET', 'integrations');
      assert.deepEqual(
        list.body.map((x: any) => x.name),
        ['shop'],
      );
      assert.equal((await call(t, 'GET', 'integrations/shop')).body.id, i.id);
      assert.equal((await call(t, 'GET', `integrations/${i.id}`)).body.name, 'shop');
      assert.deepEqual((await call(t, 'GET', 'integrations?global=1')).body, []);
    });

    test("create accepts the wrapped body and the original's query-string form", async () => {
      const wrapped = await call(t, 'POST', 'integrations', {
        integration: { name: 'wrapped', url: endpoint.url, token: 'k' },
      });
      assert.equal(wrapped.status, 201, JSON.stringify(wrapped.body));
      assert.equal(wrapped.body.category, 'custom');
      const q = new URLSearchParams({
        'integration[name]': 'by_query',
        'integration[url]': endpoint.url,
        'integration[category]': 'custom',
        'integration[token]': 'k',
      });
      const queried = await call(t, 'POST', `integrations?${q}`);
      assert.equal(queried.status, 201, JSON.stringify(queried.body));
      assert.equal(queried.body.name, 'by_query');
      assert.equal(queried.body.status, 'ready');
      for (const name of ['wrapped', 'by_query']) {
        assert.equal((await call(t, 'DELETE', `integrations/${name}`)).status, 204);
      }
    });

    test('bad input answers 422 naming the field, and changes nothing', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ name: 'nokey', url: endpoint.url }, '/token'],
        [{ name: 'has.dot', url: endpoint.url, token: 'k' }, '/name'],
        [{ name: 'ftp', url: 'ftp://example.com', token: 'k' }, '/url'],
        [{ name: 'query', url: 'http://127.0.0.1:9/shop?x=1', token: 'k' }, '/url'],
        [{ name: 'fragment', url: 'http://127.0.0.1:9/shop#top', token: 'k' }, '/url'],
        [{ name: 'extra', url: endpoint.url, token: 'k', colour: 'red' }, '/colour'],
        [{ name: 'shop', url: endpoint.url, token: 'k' }, '/name'],
      ];
      for (const [body, pointer] of cases) {
        const res = await call(t, 'POST', 'integrations', body);
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.ok(res.body.errors[pointer], `${pointer} in ${JSON.stringify(res.body)}`);
      }
      assert.equal((await call(t, 'GET', 'integrations')).body.length, 1);
      assert.equal((await call(t, 'GET', 'integrations/nothing')).status, 404);
    });

    test('a broken descriptor leaves the integration pending with its errors', async () => {
      served = {
        services: [
          { name: 'a' },
          {
            path: '/b',
            recommends: { messages: ['Not A Type'], filters: [{ path: 'payload.x', operator: 'about' }] },
          },
          { name: 'c', path: 'https://elsewhere.example.com/c' },
        ],
      };
      const res = await register('broken');
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'pending');
      const errors: string[] = res.body.error_messages;
      for (const pointer of [
        '/services/0/path',
        '/services/1/name',
        '/services/1/recommends/messages/0',
        '/services/1/recommends/filters/0/operator',
        '/services/2/path',
      ]) {
        assert.ok(
          errors.some((e) => e.startsWith(`endpoint.json ${pointer}:`)),
          `${pointer} in ${errors}`,
        );
      }
      const signup = await call(t, 'POST', 'integrations/broken/signup', { enabled: ['a'] });
      assert.equal(signup.status, 409);

      for (const [reply, reason] of [
        [{ body: 'not json {' }, 'is not valid JSON'],
        [{ status: 404, body: {} }, 'answered HTTP 404'],
        [{ body: [] }, 'must be a JSON object'],
        [{ body: { services: [] } }, 'must list at least one service'],
        [
          { status: 302, headers: { location: `${endpoint.url.replace('127.0.0.1', 'localhost')}/x` } },
          'another host',
        ],
      ] as [Reply, string][]) {
        special = (path) => (path === '/endpoint.json' ? reply : undefined);
        const refreshed = await call(t, 'POST', 'integrations/broken/refresh');
        assert.equal(refreshed.status, 200);
        assert.equal(refreshed.body.status, 'pending');
        assert.match(refreshed.body.error_messages.join('\n'), new RegExp(reason), reason);
      }
      // a redirect on the same host is followed
      special = (path) =>
        path === '/endpoint.json'
          ? { status: 301, headers: { location: '/v2/endpoint.json' } }
          : path === '/v2/endpoint.json'
            ? { body: descriptor() }
            : undefined;
      const fixed = await call(t, 'POST', 'integrations/broken/refresh');
      special = undefined;
      assert.equal(fixed.body.status, 'ready', JSON.stringify(fixed.body.error_messages));
      assert.equal(fixed.body.error_messages, null);
      assert.equal((await call(t, 'DELETE', 'integrations/broken')).status, 204);
    });

    test('sign-up validates every parameter and service before writing anything', async () => {
      const cases: [unknown, string][] = [
        [{ enabled: ['orders'] }, '/parameters/api_key'],
        [{ enabled: ['orders'], parameters: { api_key: 'k', region: 'mars' } }, '/parameters/region'],
        [{ enabled: ['orders'], parameters: { api_key: 'k', batch: 'ten' } }, '/parameters/batch'],
        [{ enabled: ['orders'], parameters: { api_key: 'k', colour: 'red' } }, '/parameters/colour'],
        [{ enabled: ['refunds'], parameters: { api_key: 'k' } }, '/enabled/0'],
        [{ parameters: { api_key: 'k' } }, '/enabled'],
      ];
      for (const [body, pointer] of cases) {
        const res = await call(t, 'POST', 'integrations/shop/signup', body);
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.ok(res.body.errors[pointer], `${pointer} in ${JSON.stringify(res.body)}`);
      }
      assert.deepEqual((await call(t, 'GET', 'mappings')).body, []);
      assert.deepEqual((await call(t, 'GET', 'parameters')).body, []);
    });

    test('sign-up creates seeded mappings and parameters that reach the service', async () => {
      const res = await call(t, 'POST', 'integrations/shop/signup', {
        parameters: { 'shop.api_key': 'k-1', batch: '25' },
        enabled: ['orders'],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(
        res.body.mappings.map((m: any) => [m.name, m.service, m.enabled]),
        [['shop.orders', 'orders', true]],
      );
      const mapping = (await call(t, 'GET', `mappings/${res.body.mappings[0].id}`)).body;
      assert.equal(mapping.url, `${endpoint.url}/orders`);
      assert.equal(mapping.token, 'endpoint-key');
      assert.equal(mapping.integration_id, res.body.id);
      assert.deepEqual(mapping.messages, ['order:new']);
      assert.deepEqual(mapping.identifiers, { order: 'payload.order.number' });
      assert.equal(mapping.filters[0].operator, 'eq');
      assert.equal(mapping.options.retries_allowed, false);
      assert.equal(mapping.parameters, null);
      const params = (await call(t, 'GET', 'parameters')).body;
      assert.deepEqual(
        params.map((p: any) => [p.name, p.value, p.data_type]),
        [
          ['shop.api_key', 'k-1', 'string'],
          ['shop.batch', 25, 'integer'],
          ['shop.region', 'eu', 'string'],
        ],
      );

      endpoint.received.length = 0;
      await t.push({ message: 'order:new', payload: { order: { number: 'R1', status: 'complete' } } });
      const [req] = (await endpoint.waitFor(1)).filter((r) => r.path === '/orders');
      assert.ok(req);
      assert.equal(req.headers['x-augury-token'], 'endpoint-key');
      assert.deepEqual(req.body.payload.parameters, [
        { name: 'shop.api_key', value: 'k-1' },
        { name: 'shop.batch', value: 25 },
        { name: 'shop.region', value: 'eu' },
      ]);

      // an integration's mapping keeps its name (the integration knows it by it)
      const rename = await call(t, 'PUT', `mappings/${mapping.id}`, { name: 'renamed-orders' });
      assert.equal(rename.status, 422);
      assert.match(rename.body.errors['/name'][0], /belongs to an integration/);
      // the parameters follow the mapping's integration, not its name: one renamed before that
      // rule still carries shop's, and never another integration's its new name begins with
      await call(t, 'POST', 'parameters', { name: 'other.secret', value: 's3cret', data_type: 'string' });
      const {
        id: _id,
        store_id,
        integration_id,
        created_at,
        updated_at,
        version,
        ...fields
      } = (await t.hub.storage.getMapping(t.storeId, mapping.id))!;
      for (const name of ['renamed-orders', 'other.orders']) {
        await t.hub.storage.updateMapping(t.storeId, mapping.id, { ...fields, name }, Date.now());
        // (an edit through the API, which drops the delivery engine's cached copy of the mapping)
        assert.equal((await call(t, 'PUT', `mappings/${mapping.id}`, { enabled: true })).status, 200);
        endpoint.received.length = 0;
        await t.push({
          message: 'order:new',
          payload: { order: { number: `R-${name}`, status: 'complete' } },
        });
        const [renamed] = (await endpoint.waitFor(1)).filter((r) => r.path === '/orders');
        assert.deepEqual(
          renamed?.body.payload.parameters.map((p: any) => p.name),
          ['shop.api_key', 'shop.batch', 'shop.region'],
          name,
        );
      }
      await t.hub.storage.updateMapping(
        t.storeId,
        mapping.id,
        { ...fields, name: 'shop.orders' },
        Date.now(),
      );
      assert.equal((await call(t, 'DELETE', 'parameters/other.secret')).status, 204);

      // signing up again (another service) needs no secrets, keeps stored values and the store's edits
      await call(t, 'PUT', `mappings/${mapping.id}`, { messages: ['order:new', 'order:updated'] });
      const again = await call(t, 'POST', 'integrations/shop/signup', { enabled: ['orders', 'shipments'] });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(
        again.body.mappings.map((m: any) => m.name),
        ['shop.orders', 'shop.shipments'],
      );
      const kept = (await call(t, 'GET', `mappings/${mapping.id}`)).body;
      assert.deepEqual(kept.messages, ['order:new', 'order:updated']);
      assert.equal((await call(t, 'GET', 'parameters/shop.batch')).body.value, 25);
    });

    test('disable_mappings and enable_mappings (GET, as the original, and POST)', async () => {
      const off = await call(t, 'GET', 'integrations/shop/disable_mappings');
      assert.equal(off.status, 200);
      assert.ok(off.body.mappings.every((m: any) => m.enabled === false));
      endpoint.received.length = 0;
      const pushed = await t.push({
        message: 'order:new',
        payload: { order: { number: 'R2', status: 'complete' } },
      });
      await t.drained();
      const skipped = await call(t, 'GET', `messages/${pushed.body.message_id}`);
      assert.equal(skipped.body.state, 'skipped');

      const on = await call(t, 'POST', 'integrations/shop/enable_mappings');
      assert.ok(on.body.mappings.every((m: any) => m.enabled === true));
      await t.push({ message: 'order:new', payload: { order: { number: 'R3', status: 'complete' } } });
      await eventually(async () => endpoint.received.some((r) => r.body?.payload?.order?.number === 'R3'));
    });

    test('refresh: a vanished service keeps its mapping and is reported; paths are followed', async () => {
      const [orders] = descriptor().services;
      served = descriptor({ services: [{ ...orders, path: '/v2/orders' }] });
      const res = await call(t, 'POST', 'integrations/shop/refresh');
      assert.equal(res.body.status, 'ready');
      assert.equal(res.body.error_messages, null);
      assert.match(res.body.warnings.join('\n'), /service "shipments" is no longer in endpoint\.json/);
      assert.deepEqual(
        res.body.mappings.map((m: any) => m.name),
        ['shop.orders', 'shop.shipments'],
      );
      const mappings = (await call(t, 'GET', 'mappings')).body;
      assert.equal(mappings.find((m: any) => m.name === 'shop.orders').url, `${endpoint.url}/v2/orders`);
      served = descriptor();
    });

    test('refresh: an edit made while endpoint.json is fetched is kept', async () => {
      const [orders, shipments] = descriptor().services;
      served = descriptor({ services: [{ ...orders, path: '/v3/orders' }, shipments] });
      special = (path) => (path === '/endpoint.json' ? { body: served, delayMs: 500 } : undefined);
      try {
        const mapping = (await call(t, 'GET', 'mappings')).body.find((m: any) => m.name === 'shop.orders');
        assert.equal(mapping.enabled, true);
        const refreshing = call(t, 'POST', 'integrations/shop/refresh');
        await new Promise((r) => setTimeout(r, 150));
        // the refresh has read the integration's mappings and waits for endpoint.json
        const off = await call(t, 'PUT', `mappings/${mapping.id}`, { enabled: false });
        assert.equal(off.status, 200, JSON.stringify(off.body));
        assert.equal((await refreshing).status, 200);
        const after = (await call(t, 'GET', `mappings/${mapping.id}`)).body;
        assert.equal(after.url, `${endpoint.url}/v3/orders`, 'the refresh applied');
        assert.equal(after.enabled, false, 'and did not undo the edit');
        await call(t, 'PUT', `mappings/${mapping.id}`, { enabled: true });
      } finally {
        special = undefined;
        served = descriptor();
      }
    });

    test('the OpenAPI document lists the integration and scheduler routes', async () => {
      const doc = (await t.get('/api/openapi.json')).body;
      for (const path of [
        '/api/stores/{store_id}/integrations',
        '/api/stores/{store_id}/integrations/{integration}',
        '/api/stores/{store_id}/integrations/{integration}/signup',
        '/api/stores/{store_id}/integrations/{integration}/refresh',
        '/api/stores/{store_id}/integrations/{integration}/enable_mappings',
        '/api/stores/{store_id}/integrations/{integration}/disable_mappings',
        '/api/stores/{store_id}/schedulers',
        '/api/stores/{store_id}/schedulers/{scheduler}',
      ]) {
        assert.ok(doc.paths[path], `missing ${path}`);
      }
    });

    test('delete removes the integration and its mappings, not its parameters', async () => {
      const res = await call(t, 'DELETE', 'integrations/shop');
      assert.equal(res.status, 204);
      assert.deepEqual((await call(t, 'GET', 'mappings')).body, []);
      assert.equal((await call(t, 'GET', 'parameters')).body.length, 3);
      assert.equal((await call(t, 'GET', 'integrations/shop')).status, 404);
    });
  });
}
