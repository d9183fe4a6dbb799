import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call, createMapping, mappingBody } from '../helpers/mappings.js';

const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';

for (const backend of backends()) {
  describe(`mappings API (${backend})`, () => {
    let t: TestHub;
    before(async () => {
      t = await testHub(backend);
    });
    after(async () => t.close());

    const count = async () => (await call(t, 'GET', 'mappings')).body.length as number;

    test('create (bare) answers 201 with every field and the defaults', async () => {
      const res = await call(t, 'POST', 'mappings', {
        name: 'shipping.ship',
        url: 'https://endpoint.example.com/ship',
        token: 'secret-endpoint-token',
        messages: ['shipment:ready'],
      });
      assert.equal(res.status, 201);
      const m = res.body;
      assert.match(m.id, /^[0-9a-f-]{36}$/);
      assert.equal(m.store_id, t.storeId);
      assert.equal(m.name, 'shipping.ship');
      assert.equal(m.url, 'https://endpoint.example.com/ship');
      assert.equal(m.token, 'secret-endpoint-token');
      assert.deepEqual(m.messages, ['shipment:ready']);
      assert.deepEqual(m.filters, []);
      assert.deepEqual(m.identifiers, {});
      assert.equal(m.parameters, null);
      assert.deepEqual(m.options, {
        retries_allowed: true,
        timeout_ms: 180000,
        max_attempts: null,
        max_age: 604800,
        concurrency: 10,
        ordering_key: null,
        signing_secret: null,
        identifier_ttl: 2592000,
        format: 'augury',
      });
      assert.equal(m.enabled, true);
      assert.equal(m.required, false);
      assert.equal(m.integration_id, null);
      assert.equal(m.version, 1);
      assert.ok(!Number.isNaN(Date.parse(m.created_at)));
      const got = await call(t, 'GET', `mappings/${m.id}`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, m);
    });

    test('create (wrapped in "mapping") with filters, identifiers, parameters and options', async () => {
      const body = mappingBody({
        messages: ['order:*', 'order:new'],
        filters: [
          { path: 'payload.order.status', operator: 'eq', value: 'complete' },
          { path: 'payload.order.line_items.*.sku', operator: 'match', value: '/^ror-/i', match_rule: 'any' },
          { path: 'payload.order.email', operator: 'present' },
        ],
        identifiers: { order: 'payload.order.number' },
        parameters: ['shipping.api_key'],
        options: {
          retries_allowed: false,
          concurrency: 3,
          ordering_key: 'payload.order.number',
          max_attempts: 5,
        },
        enabled: false,
      });
      const res = await call(t, 'POST', 'mappings', { mapping: body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const m = res.body;
      assert.deepEqual(m.messages, ['order:*', 'order:new']);
      assert.deepEqual(m.filters, [
        { path: 'payload.order.status', operator: 'eq', value: 'complete', match_rule: 'all' },
        { path: 'payload.order.line_items.*.sku', operator: 'match', value: '/^ror-/i', match_rule: 'any' },
        { path: 'payload.order.email', operator: 'present', match_rule: 'all' },
      ]);
      assert.deepEqual(m.identifiers, { order: 'payload.order.number' });
      assert.deepEqual(m.parameters, ['shipping.api_key']);
      assert.equal(m.options.retries_allowed, false);
      assert.equal(m.options.concurrency, 3);
      assert.equal(m.options.max_attempts, 5);
      assert.equal(m.options.ordering_key, 'payload.order.number');
      assert.equal(m.options.timeout_ms, 180000);
      assert.equal(m.enabled, false);
    });

    test('list answers every mapping of the store, by name', async () => {
      const res = await call(t, 'GET', 'mappings');
      assert.equal(res.status, 200);
      const names = res.body.map((m: { name: string }) => m.name);
      assert.deepEqual(names, [...names].sort());
      assert.ok(names.includes('shipping.ship'));
    });

    test('PUT merges a partial body onto the stored mapping and bumps the version', async () => {
      const m = await createMapping(t, { options: { concurrency: 4 } });
      const res = await call(t, 'PUT', `mappings/${m.id}`, { url: 'https://new.example.com/x' });
      assert.equal(res.status, 200);
      assert.equal(res.body.url, 'https://new.example.com/x');
      assert.equal(res.body.name, m.name);
      assert.equal(res.body.version, 2);
      const opt = await call(t, 'PUT', `mappings/${m.id}`, { mapping: { options: { timeout_ms: 5000 } } });
      assert.equal(opt.status, 200);
      assert.equal(opt.body.options.timeout_ms, 5000);
      assert.equal(opt.body.options.concurrency, 4, 'options are merged option by option');
      assert.equal(opt.body.version, 3);
      const reset = await call(t, 'PUT', `mappings/${m.id}`, { options: { concurrency: null } });
      assert.equal(reset.body.options.concurrency, 10, 'a null option goes back to its default');
      // A GET answer can be sent back as it is: the hub's own fields are ignored on input.
      const roundTrip = await call(t, 'PUT', `mappings/${m.id}`, { ...reset.body, token: 'rotated' });
      assert.equal(roundTrip.status, 200, JSON.stringify(roundTrip.body));
      assert.equal(roundTrip.body.token, 'rotated');
      assert.equal(roundTrip.body.version, 5);
    });

    test('an invalid PUT answers 422 and changes nothing', async () => {
      const m = await createMapping(t);
      const res = await call(t, 'PUT', `mappings/${m.id}`, { url: 'ftp://x', messages: [] });
      assert.equal(res.status, 422);
      assert.deepEqual(Object.keys(res.body.errors).sort(), ['/messages', '/url']);
      assert.deepEqual((await call(t, 'GET', `mappings/${m.id}`)).body, m);
    });

    test('DELETE answers 204, then the mapping is gone', async () => {
      const m = await createMapping(t);
      const res = await call(t, 'DELETE', `mappings/${m.id}`);
      assert.equal(res.status, 204);
      assert.equal(res.body, '');
      assert.equal((await call(t, 'GET', `mappings/${m.id}`)).status, 404);
      assert.equal((await call(t, 'DELETE', `mappings/${m.id}`)).status, 404);
    });

    test('unknown mappings answer 404 Mapping not found', async () => {
      for (const id of [UNKNOWN_ID, 'not-an-id']) {
        for (const method of ['GET', 'PUT', 'DELETE'] as const) {
          const res = await call(
            t,
            method,
            `mappings/${id}`,
            method === 'PUT' ? { url: 'http://x.y' } : undefined,
          );
          assert.equal(res.status, 404, `${method} ${id}`);
          assert.deepEqual(res.body, { error: 'Mapping not found.' });
        }
      }
    });

    const invalidCases: [string, Record<string, unknown>, string, RegExp][] = [
      ['missing url', { url: undefined }, '/url', /is required/],
      ['url not http', { url: 'ftp://example.com/x' }, '/url', /http or https/],
      ['url not a URL', { url: 'endpoint/ship' }, '/url', /absolute/],
      ['missing token', { token: undefined }, '/token', /is required/],
      ['missing name', { name: undefined }, '/name', /is required/],
      ['name too long', { name: 'x'.repeat(201) }, '/name', /at most 200/],
      ['name with a newline', { name: 'erp.orders\ncreate mapping evil' }, '/name', /control characters/],
      ['no messages', { messages: [] }, '/messages', /at least one/],
      ['messages missing', { messages: undefined }, '/messages', /is required/],
      ['bad type pattern', { messages: ['order:new', 'Order'] }, '/messages/1', /segments/],
      ['partial wildcard', { messages: ['ord*:new'] }, '/messages/0', /whole segment/],
      [
        'unknown operator',
        { filters: [{ path: 'payload.a', operator: 'like', value: 'x' }] },
        '/filters/0/operator',
        /must be one of/,
      ],
      [
        'regex that does not compile',
        { filters: [{ path: 'payload.a', operator: 'match', value: '(a' }] },
        '/filters/0/value',
        /regular expression/,
      ],
      [
        'look-behind (not RE2)',
        { filters: [{ path: 'payload.a', operator: 'match', value: '(?<=a)b' }] },
        '/filters/0/value',
        /regular expression/,
      ],
      [
        'filter path that does not parse',
        { filters: [{ path: 'payload..a', operator: 'present' }] },
        '/filters/0/path',
        /empty segment/,
      ],
      [
        'filter without value',
        { filters: [{ path: 'payload.a', operator: 'eq' }] },
        '/filters/0/value',
        /required/,
      ],
      [
        'gt with a non-number',
        { filters: [{ path: 'payload.a', operator: 'gt', value: 'abc' }] },
        '/filters/0/value',
        /number/,
      ],
      [
        'bad match_rule',
        { filters: [{ path: 'payload.a', operator: 'present', match_rule: 'some' }] },
        '/filters/0/match_rule',
        /"all" or "any"/,
      ],
      [
        'unknown filter field',
        { filters: [{ path: 'payload.a', operator: 'present', valeu: 1 }] },
        '/filters/0/valeu',
        /not a known field/,
      ],
      ['filters not an array', { filters: { path: 'payload.a' } }, '/filters', /array/],
      [
        'identifier path that does not parse',
        { identifiers: { order: 'payload.order.' } },
        '/identifiers/order',
        /ends with a dot/,
      ],
      ['identifiers not an object', { identifiers: ['payload.a'] }, '/identifiers', /object/],
      ['parameters not names', { parameters: ['ok', 3] }, '/parameters/1', /non-empty string/],
      ['unknown top-level field', { filter: [] }, '/filter', /not a known field/],
      ['unknown option', { options: { retry: false } }, '/options/retry', /not a known option/],
      ['timeout out of range', { options: { timeout_ms: 0 } }, '/options/timeout_ms', /1 to 600000/],
      ['concurrency out of range', { options: { concurrency: 1001 } }, '/options/concurrency', /1 to 1000/],
      [
        'retries_allowed not boolean',
        { options: { retries_allowed: 'no' } },
        '/options/retries_allowed',
        /true or false/,
      ],
      [
        'ordering_key that does not parse',
        { options: { ordering_key: 'a b' } },
        '/options/ordering_key',
        /whitespace/,
      ],
      ['short signing secret', { options: { signing_secret: 'short' } }, '/options/signing_secret', /16/],
      ['unsupported format', { options: { format: 'wombat' } }, '/options/format', /augury/],
      ['enabled not boolean', { enabled: 'yes' }, '/enabled', /true or false/],
      [
        'required mapping created disabled',
        { required: true, enabled: false },
        '/enabled',
        /cannot be disabled/,
      ],
    ];
    for (const [title, over, pointer, reason] of invalidCases) {
      test(`422 on ${title}: ${pointer}`, async () => {
        const before = await count();
        const res = await call(t, 'POST', 'mappings', mappingBody(over));
        assert.equal(res.status, 422, JSON.stringify(res.body));
        assert.equal(res.body.error, 'Invalid object.');
        assert.ok(res.body.errors[pointer], `${pointer} in ${JSON.stringify(res.body.errors)}`);
        assert.match(res.body.errors[pointer].join(' '), reason);
        assert.equal(await count(), before, 'nothing stored');
      });
    }

    test('422 when the body is not an object', async () => {
      const res = await call(t, 'POST', 'mappings', ['x']);
      assert.equal(res.status, 422);
      assert.ok(res.body.errors['/']);
    });

    test('a name already used answers 422 /name, on create and on rename', async () => {
      const a = await createMapping(t);
      const b = await createMapping(t);
      const dup = await call(t, 'POST', 'mappings', mappingBody({ name: a.name }));
      assert.equal(dup.status, 422);
      assert.deepEqual(dup.body.errors, { '/name': ['is already used by another mapping in this store'] });
      const rename = await call(t, 'PUT', `mappings/${b.id}`, { name: a.name });
      assert.equal(rename.status, 422);
      assert.deepEqual(Object.keys(rename.body.errors), ['/name']);
      // Concurrent creates race past the pre-check; the unique constraint still answers 422.
      const same = mappingBody();
      const raced = await Promise.all([1, 2, 3].map(() => call(t, 'POST', 'mappings', same)));
      assert.deepEqual(raced.map((r) => r.status).sort(), [201, 422, 422]);
    });

    test('a required mapping cannot be disabled or deleted until it is made optional', async () => {
      const m = await createMapping(t, { required: true });
      const disable = await call(t, 'PUT', `mappings/${m.id}`, { enabled: false });
      assert.equal(disable.status, 422);
      assert.deepEqual(disable.body.errors, { '/enabled': ['a required mapping cannot be disabled'] });
      const del = await call(t, 'DELETE', `mappings/${m.id}`);
      assert.equal(del.status, 422);
      assert.deepEqual(Object.keys(del.body.errors), ['/required']);
      assert.equal((await call(t, 'GET', `mappings/${m.id}`)).status, 200);
      const optional = await call(t, 'PUT', `mappings/${m.id}`, { required: false });
      assert.equal(optional.status, 200);
      assert.equal((await call(t, 'DELETE', `mappings/${m.id}`)).status, 204);
    });

    test('401 without or with a wrong token, 404 for an unknown store', async () => {
      for (const headers of [{ 'x-augury-token': '' }, { 'x-augury-token': 'wrong' }]) {
        const list = await call(t, 'GET', 'mappings', undefined, headers);
        assert.equal(list.status, 401);
        assert.deepEqual(list.body, { error: 'Token is invalid.' });
        const create = await call(t, 'POST', 'mappings', mappingBody(), headers);
        assert.equal(create.status, 401);
        const explain = await call(
          t,
          'POST',
          'route/explain',
          { message: 'order:new', payload: {} },
          headers,
        );
        assert.equal(explain.status, 401);
      }
      const other = await call(t, 'GET', `/api/stores/${UNKNOWN_ID}/mappings`);
      assert.equal(other.status, 404);
      assert.deepEqual(other.body, { error: 'Store not found.' });
    });

    test('the OpenAPI document lists the mapping and explain routes', async () => {
      const res = await call(t, 'GET', '/api/openapi.json');
      const paths = Object.keys(res.body.paths);
      assert.ok(paths.includes('/api/stores/{store_id}/mappings'));
      assert.ok(paths.includes('/api/stores/{store_id}/mappings/{mapping_id}'));
      assert.ok(paths.includes('/api/stores/{store_id}/route/explain'));
    });
  });
}
