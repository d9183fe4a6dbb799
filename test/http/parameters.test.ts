import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call } from '../helpers/mappings.js';

const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';
const LOOKUP = [{ standard: 'US STANDARD', nextday: 'OVERNIGHT' }, { amazon: 'Express' }];

for (const backend of backends()) {
  describe(`parameters API (${backend})`, () => {
    let t: TestHub;
    before(async () => {
      t = await testHub(backend);
    });
    after(async () => t.close());

    let counter = 0;
    const unique = (prefix = 'test') => `${prefix}.param_${++counter}`;
    const create = async (body: Record<string, unknown>) => {
      const res = await call(t, 'POST', 'parameters', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };
    const rejects = async (
      method: 'POST' | 'PUT',
      path: string,
      body: unknown,
      errors: Record<string, string[]>,
    ) => {
      const res = await call(t, method, path, body);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.deepEqual(res.body, { error: 'Invalid object.', errors });
    };

    test('create (bare) answers 201, value as JSON, ISO times; GET by id and by name', async () => {
      const p = await create({ name: 'mandrill.api_key', value: 'abc123', data_type: 'string' });
      assert.deepEqual(Object.keys(p).sort(), [
        'created_at',
        'data_type',
        'id',
        'name',
        'updated_at',
        'value',
      ]);
      assert.match(p.id, /^[0-9a-f-]{36}$/);
      assert.equal(p.name, 'mandrill.api_key');
      assert.equal(p.value, 'abc123');
      assert.equal(p.data_type, 'string');
      assert.equal(new Date(p.created_at).toISOString(), p.created_at);
      assert.equal(p.updated_at, p.created_at);
      for (const key of [p.id, 'mandrill.api_key']) {
        const got = await call(t, 'GET', `parameters/${key}`);
        assert.equal(got.status, 200);
        assert.deepEqual(got.body, p);
      }
    });

    test('create (wrapped in "parameter") keeps a list value as an array of objects', async () => {
      const res = await call(t, 'POST', 'parameters', {
        parameter: { name: 'dotcom.shipping_lookup', value: LOOKUP, data_type: 'list' },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(res.body.value, LOOKUP);
      assert.equal(res.body.data_type, 'list');
      assert.deepEqual((await call(t, 'GET', 'parameters/dotcom.shipping_lookup')).body.value, LOOKUP);
    });

    test('data_type is inferred from the value when absent', async () => {
      const cases: [unknown, string][] = [
        ['text', 'string'],
        ['5', 'string'],
        [42, 'integer'],
        [-3, 'integer'],
        [2.5, 'float'],
        [true, 'boolean'],
        [false, 'boolean'],
        [LOOKUP, 'list'],
        [[], 'list'],
      ];
      for (const [value, type] of cases) {
        const p = await create({ name: unique('infer'), value });
        assert.equal(p.data_type, type, JSON.stringify(value));
        assert.deepEqual(p.value, value);
      }
    });

    test('each data_type accepts its JSON shape', async () => {
      const cases: [string, unknown][] = [
        ['string', ''],
        ['integer', 0],
        ['float', 3],
        ['float', 1.25],
        ['boolean', false],
        ['list', []],
        ['list', [{ a: { nested: [1] } }]],
      ];
      for (const [data_type, value] of cases) {
        const p = await create({ name: unique('shape'), value, data_type });
        assert.equal(p.data_type, data_type);
        assert.deepEqual(p.value, value);
      }
    });

    test('a value that does not match data_type is a 422 naming /value and the reason', async () => {
      const cases: [string, unknown, Record<string, string[]>][] = [
        ['string', 5, { '/value': ['must be a string'] }],
        ['string', ['a'], { '/value': ['must be a string'] }],
        ['integer', '5', { '/value': ['must be an integer'] }],
        ['integer', 1.5, { '/value': ['must be an integer'] }],
        // The body parser refuses such a number before the data_type check sees it.
        [
          'integer',
          2 ** 60,
          {
            '/value': [
              'is a number beyond 9007199254740991 (2^53 - 1), past which numbers are not kept exactly: send it as a string',
            ],
          },
        ],
        ['float', '1.5', { '/value': ['must be a number'] }],
        ['boolean', 'true', { '/value': ['must be true or false'] }],
        ['boolean', 1, { '/value': ['must be true or false'] }],
        ['list', { a: 1 }, { '/value': ['must be an array of objects'] }],
        ['list', '[{"a":1}]', { '/value': ['must be an array of objects'] }],
        [
          'list',
          [{ a: 1 }, 'x', [], null],
          {
            '/value/1': ['must be an object'],
            '/value/2': ['must be an object'],
            '/value/3': ['must be an object'],
          },
        ],
      ];
      for (const [data_type, value, errors] of cases) {
        await rejects('POST', 'parameters', { name: unique('bad'), value, data_type }, errors);
      }
      await rejects(
        'POST',
        'parameters',
        { name: unique('bad'), value: { a: 1 } },
        {
          '/value': ['must be a string, a number, true/false or an array of objects'],
        },
      );
    });

    test('bad data_type, bad or missing name, missing value and unknown fields are 422s', async () => {
      await rejects(
        'POST',
        'parameters',
        { name: unique(), value: 'x', data_type: 'hash' },
        {
          '/data_type': ['must be one of string, integer, float, boolean, list'],
        },
      );
      const letters = 'may contain only letters, digits and the characters _ . - :';
      const names: [unknown, string][] = [
        [undefined, 'is required'],
        [null, 'is required'],
        [5, 'must be a string'],
        ['', 'must not be blank'],
        ['a'.repeat(201), 'must be at most 200 characters'],
        ['has space', letters],
        ['slash/name', letters],
        ['naïve', letters],
        [UNKNOWN_ID, 'must not have the shape of a parameter id (a UUID)'],
      ];
      for (const [name, reason] of names) {
        await rejects('POST', 'parameters', { name, value: 'x' }, { '/name': [reason] });
      }
      await rejects('POST', 'parameters', { name: unique() }, { '/value': ['is required'] });
      await rejects('POST', 'parameters', { name: unique(), value: null }, { '/value': ['is required'] });
      await rejects(
        'POST',
        'parameters',
        { name: unique(), value: 'x', valeu: 'y', 'a/b': 1 },
        {
          '/valeu': ['is not a known field'],
          '/a~1b': ['is not a known field'],
        },
      );
      await rejects(
        'POST',
        'parameters',
        { parameter: { name: unique(), value: 'x', extra: 1 } },
        {
          '/extra': ['is not a known field'],
        },
      );
      await rejects('POST', 'parameters', ['not', 'an', 'object'], {
        '/': ['must be a JSON object (a parameter, or {"parameter": {…}})'],
      });
      // Everything wrong at once is reported at once.
      const res = await call(t, 'POST', 'parameters', { name: 'bad name', data_type: 'x', nope: 1 });
      assert.deepEqual(Object.keys(res.body.errors).sort(), ['/data_type', '/name', '/nope', '/value']);
    });

    test('names may use letters, digits, _ . - : and up to 200 characters', async () => {
      for (const name of ['Shop-1:erp.last_polled_at', 'x', 'n'.repeat(200)]) {
        const p = await create({ name, value: 1 });
        assert.equal(p.name, name);
        assert.equal((await call(t, 'GET', `parameters/${p.id}`)).body.name, name);
      }
      assert.equal((await call(t, 'GET', 'parameters/Shop-1:erp.last_polled_at')).body.value, 1);
    });

    test('a duplicate name is a 422 "is already taken" and changes nothing', async () => {
      const name = unique('dup');
      const first = await create({ name, value: 'first' });
      await rejects('POST', 'parameters', { name, value: 'second' }, { '/name': ['is already taken'] });
      await rejects(
        'POST',
        'parameters',
        { parameter: { name, value: 2 } },
        { '/name': ['is already taken'] },
      );
      assert.deepEqual((await call(t, 'GET', `parameters/${name}`)).body, first);
    });

    test('update by id or by name, bare or wrapped; the stored data_type stays unless sent', async () => {
      const name = unique('upd');
      const p = await create({ name, value: 1 });
      await new Promise((r) => setTimeout(r, 5));

      let res = await call(t, 'PUT', `parameters/${p.id}`, { value: 2 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.value, 2);
      assert.equal(res.body.id, p.id);
      assert.equal(res.body.created_at, p.created_at);
      assert.ok(res.body.updated_at > p.updated_at);

      res = await call(t, 'PUT', `parameters/${name}`, { parameter: { value: 'two', data_type: 'string' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.value, 'two');
      assert.equal(res.body.data_type, 'string');

      // A value of another type without data_type is checked against the stored type.
      await rejects('PUT', `parameters/${name}`, { value: 3 }, { '/value': ['must be a string'] });
      // Only data_type: the stored value must fit the new type.
      await rejects(
        'PUT',
        `parameters/${name}`,
        { data_type: 'integer' },
        {
          '/data_type': ['does not fit the stored value (must be an integer): send a value too'],
        },
      );
      res = await call(t, 'PUT', `parameters/${name}`, { value: LOOKUP, data_type: 'list' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.value, LOOKUP);

      // A GET answer can be PUT back as it is.
      const got = (await call(t, 'GET', `parameters/${p.id}`)).body;
      res = await call(t, 'PUT', `parameters/${p.id}`, got);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.value, LOOKUP);
      assert.equal((await call(t, 'GET', 'parameters')).body.filter((x: any) => x.name === name).length, 1);
    });

    test('update rejects a rename, bad values, unknown fields and a bad data_type', async () => {
      const name = unique('upd');
      const p = await create({ name, value: true });
      await rejects(
        'PUT',
        `parameters/${p.id}`,
        { name: 'other.name' },
        {
          '/name': ['cannot be changed: create a parameter with the new name and delete this one'],
        },
      );
      await rejects('PUT', `parameters/${p.id}`, { value: 'yes' }, { '/value': ['must be true or false'] });
      await rejects(
        'PUT',
        `parameters/${p.id}`,
        { value: false, colour: 'red' },
        {
          '/colour': ['is not a known field'],
        },
      );
      await rejects(
        'PUT',
        `parameters/${p.id}`,
        { data_type: 'bool' },
        {
          '/data_type': ['must be one of string, integer, float, boolean, list'],
        },
      );
      assert.equal((await call(t, 'GET', `parameters/${p.id}`)).body.value, true);
    });

    test('delete by id and by name answers 204; then 404', async () => {
      const a = await create({ name: unique('del'), value: 'a' });
      const b = await create({ name: unique('del'), value: 'b' });
      for (const key of [a.id, b.name]) {
        const res = await call(t, 'DELETE', `parameters/${key}`);
        assert.equal(res.status, 204);
        assert.equal(res.body, '');
        assert.equal((await call(t, 'GET', `parameters/${key}`)).status, 404);
        assert.equal((await call(t, 'DELETE', `parameters/${key}`)).status, 404);
      }
      // The name is free again.
      await create({ name: b.name, value: 'again' });
    });

    test('unknown parameters answer 404 "Parameter not found."', async () => {
      const notFound = { error: 'Parameter not found.' };
      for (const key of [UNKNOWN_ID, 'no.such_param', 'junk']) {
        assert.deepEqual(await call(t, 'GET', `parameters/${key}`), { status: 404, body: notFound });
        assert.deepEqual(await call(t, 'PUT', `parameters/${key}`, { value: 1 }), {
          status: 404,
          body: notFound,
        });
        assert.deepEqual(await call(t, 'DELETE', `parameters/${key}`), { status: 404, body: notFound });
      }
    });

    test('without a valid token every route answers 401; an unknown store 404', async () => {
      const p = await create({ name: unique('auth'), value: 'secret' });
      const routes: ['GET' | 'POST' | 'PUT' | 'DELETE', string, unknown][] = [
        ['GET', 'parameters', undefined],
        ['POST', 'parameters', { name: unique(), value: 1 }],
        ['GET', `parameters/${p.id}`, undefined],
        ['PUT', `parameters/${p.id}`, { value: 'changed' }],
        ['DELETE', `parameters/${p.name}`, undefined],
      ];
      for (const [method, path, body] of routes) {
        for (const token of ['', 'wrong-token']) {
          const res = await call(t, method, path, body, { 'x-augury-token': token });
          assert.deepEqual(res, { status: 401, body: { error: 'Token is invalid.' } }, `${method} ${path}`);
        }
        const res = await call(t, method, `/api/stores/${UNKNOWN_ID}/${path}`, body);
        assert.deepEqual(res, { status: 404, body: { error: 'Store not found.' } });
      }
      assert.deepEqual((await call(t, 'GET', `parameters/${p.id}`)).body, p);
    });
  });

  describe(`parameters API listing (${backend})`, () => {
    let t: TestHub;
    before(async () => {
      t = await testHub(backend);
    });
    after(async () => t.close());

    test('an empty store lists []', async () => {
      assert.deepEqual(await call(t, 'GET', 'parameters'), { status: 200, body: [] });
    });

    test('the list is ordered by name (code-unit order, the same on every backend)', async () => {
      const names = ['b', 'a_b', 'a.b', 'B', 'a-b', 'a:b', 'ab', 'a', 'A', '1'];
      for (const name of names) {
        const res = await call(t, 'POST', 'parameters', { name, value: name });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
      const res = await call(t, 'GET', 'parameters');
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.map((p: any) => p.name),
        ['1', 'A', 'B', 'a', 'a-b', 'a.b', 'a:b', 'a_b', 'ab', 'b'],
      );
      for (const p of res.body) assert.equal(p.value, p.name);
    });
  });
}
