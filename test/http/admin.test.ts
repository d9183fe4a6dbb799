import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { ADMIN_TOKEN, type TestHub, testHub } from '../helpers/hub.js';

for (const backend of backends()) {
  describe(`admin API: stores and tokens (${backend})`, () => {
    let t: TestHub;
    before(async () => {
      t = await testHub(backend);
    });
    after(async () => t.close());

    const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, token = ADMIN_TOKEN) =>
      t.hub.app.inject({
        method,
        url,
        headers: { 'x-admin-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { payload: JSON.stringify(body) } : {}),
      });

    test('create a store: 201 with id and a token that works once shown', async () => {
      const res = await admin('POST', '/api/stores', { name: 'Acme' });
      assert.equal(res.statusCode, 201);
      const store = res.json();
      assert.equal(store.name, 'Acme');
      assert.match(store.token, /^sy_[A-Za-z0-9_-]{32}$/);
      const push = await t.hub.app.inject({
        method: 'POST',
        url: `/api/stores/${store.id}/messages`,
        headers: { 'x-augury-token': store.token, 'content-type': 'application/json' },
        payload: JSON.stringify({ message: 'acme:ping:sent', payload: {} }),
      });
      assert.equal(push.statusCode, 201);
      // the default store's token does not open another store
      const cross = await t.hub.app.inject({
        method: 'GET',
        url: `/api/stores/${store.id}/queues`,
        headers: { 'x-augury-token': t.token },
      });
      assert.equal(cross.statusCode, 401);
    });

    test('a blank name or an unknown field answers 422 and creates nothing', async () => {
      const before = (await admin('GET', '/api/stores')).json().length;
      const blank = await admin('POST', '/api/stores', { name: '   ' });
      assert.equal(blank.statusCode, 422);
      assert.deepEqual(blank.json().errors, { '/name': ['must not be blank'] });
      const extra = await admin('POST', '/api/stores', { name: 'Acme 2', plan: 'gold' });
      assert.equal(extra.statusCode, 422);
      assert.ok(extra.json().errors['/plan'], extra.body);
      assert.equal((await admin('GET', '/api/stores')).json().length, before);
      const trimmed = await admin('POST', '/api/stores', { name: '  Acme 3 ' });
      assert.equal(trimmed.json().name, 'Acme 3');
    });

    test('list stores; the token is never listed', async () => {
      const res = await admin('GET', '/api/stores');
      assert.equal(res.statusCode, 200);
      const names = res.json().map((s: { name: string }) => s.name);
      assert.ok(names.includes('Default Store'));
      assert.ok(res.json().every((s: object) => !('token' in s)));
    });

    test('401 with a wrong admin token, 422 without a name', async () => {
      assert.equal((await admin('GET', '/api/stores', undefined, 'wrong-token-wrong-token')).statusCode, 401);
      const bad = await admin('POST', '/api/stores', { title: 'x' });
      assert.equal(bad.statusCode, 422);
      assert.ok(bad.json().errors['/name']);
    });

    test('token create and revoke', async () => {
      const created = await admin('POST', `/api/stores/${t.storeId}/tokens`);
      assert.equal(created.statusCode, 201);
      const { id, token } = created.json();
      const use = () =>
        t.hub.app.inject({
          method: 'GET',
          url: `/api/stores/${t.storeId}/queues`,
          headers: { 'x-augury-token': token },
        });
      assert.equal((await use()).statusCode, 200);
      const list = await admin('GET', `/api/stores/${t.storeId}/tokens`);
      assert.equal(list.json().length, 2);
      assert.ok(list.json().every((tk: object) => !('token' in tk) && !('token_hash' in tk)));
      assert.equal((await admin('DELETE', `/api/stores/${t.storeId}/tokens/${id}`)).statusCode, 204);
      assert.equal((await use()).statusCode, 401);
      assert.equal((await admin('DELETE', `/api/stores/${t.storeId}/tokens/${id}`)).statusCode, 404);
      assert.equal(
        (await admin('POST', '/api/stores/0190a000-0000-7000-8000-000000000000/tokens')).statusCode,
        404,
      );
    });
  });
}

describe('admin API disabled without an admin token', () => {
  test('403 naming the setting', async () => {
    const t = await testHub('sqlite', { config: { adminToken: undefined } });
    try {
      const res = await t.hub.app.inject({
        method: 'GET',
        url: '/api/stores',
        headers: { 'x-admin-token': 'anything-anything' },
      });
      assert.equal(res.statusCode, 403);
      assert.match(res.json().error, /SWITCHYARD_ADMIN_TOKEN/);
    } finally {
      await t.close();
    }
  });
});
