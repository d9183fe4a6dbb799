import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseDescriptor } from '../../src/pipeline/integrations/descriptor.js';
import { fetchDescriptor } from '../../src/pipeline/integrations/fetch.js';
import { coerceValue } from '../../src/pipeline/integrations/values.js';
import { firstTick, nextTick } from '../../src/pipeline/scheduler.js';
import { parseScheduler } from '../../src/pipeline/scheduler-validation.js';
import { type Reply, TestEndpoint } from '../helpers/endpoint.js';

const ctx = { integration: 'shop', url: 'http://127.0.0.1:1', token: 'k' };

describe('endpoint.json parsing', () => {
  test('the old and misspelt names real endpoints used are read as the documented ones', () => {
    const parsed = parseDescriptor(
      {
        services: [
          {
            name: 'ship',
            path: 'ship',
            requires: { paramaters: [{ name: 'enabled', data_type: 'boolean', default: 'true' }], sku: 'x' },
            recommends: {
              keys: ['shipment=>ready'],
              event_key: { shipment: 'payload.shipment.number' },
              filters: [{ path: 'payload.shipment.state', operator: 'eq', value: 'ready', note: 'dropped' }],
              options: { allow_retries: false, from_the_future: 1 },
            },
            produces: { messages: [] },
            humanizers: { '200': 'ok' },
          },
        ],
      },
      ctx,
    );
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const [s] = parsed.descriptor.services;
    assert.equal(s!.path, '/ship');
    assert.deepEqual(s!.parameters[0]!.default, true);
    assert.deepEqual(s!.recommends, {
      messages: ['shipment:ready'],
      identifiers: { shipment: 'payload.shipment.number' },
      filters: [{ path: 'payload.shipment.state', operator: 'eq', value: 'ready', match_rule: 'all' }],
      options: { retries_allowed: false },
    });
  });

  test('problems are listed with pointers into the file, all at once', () => {
    const parsed = parseDescriptor(
      {
        services: [
          {
            name: 'a',
            path: '/a',
            requires: { parameters: [{ name: 'bad name!' }, { name: 'n', data_type: 'int' }] },
          },
          { name: 'a', path: '/b', recommends: { identifiers: { k: 'not..a.path' } } },
          {
            name: 'c',
            path: '/c',
            requires: { parameters: [{ name: 'x', data_type: 'integer', default: 'ten' }] },
          },
        ],
      },
      ctx,
    );
    assert.equal(parsed.ok, false);
    const errors = (parsed as { errors: string[] }).errors.join('\n');
    for (const pointer of [
      '/services/0/requires/parameters/0/name',
      '/services/0/requires/parameters/1/data_type',
      '/services/1/name',
      '/services/1/recommends/identifiers/k',
      '/services/2/requires/parameters/0/default',
    ]) {
      assert.match(errors, new RegExp(`^${pointer}: `, 'm'), pointer);
    }
  });

  test('sign-up values accept the string forms a form posts, typed once', () => {
    assert.deepEqual(coerceValue('5', 'integer'), { ok: true, value: 5 });
    assert.deepEqual(coerceValue('1.5', 'float'), { ok: true, value: 1.5 });
    assert.deepEqual(coerceValue('false', 'boolean'), { ok: true, value: false });
    assert.deepEqual(coerceValue('[{"a":"b"}]', 'list'), { ok: true, value: [{ a: 'b' }] });
    assert.deepEqual(coerceValue(7, 'string'), { ok: true, value: '7' });
    assert.equal(coerceValue('yes', 'boolean').ok, false);
    assert.equal(coerceValue('[1]', 'list').ok, false);
  });
});

describe('fetching endpoint.json', () => {
  let endpoint: TestEndpoint;
  let reply: Reply = { body: {} };
  before(async () => {
    endpoint = await TestEndpoint.start(() => reply);
  });
  after(async () => endpoint.close());

  test('has a deadline', async () => {
    reply = { body: { services: [] }, delayMs: 1500 };
    const res = await fetchDescriptor(endpoint.url, { timeoutMs: 200 });
    assert.deepEqual(res, {
      ok: false,
      error: `GET ${endpoint.url}/endpoint.json did not answer within 0.2 s`,
    });
  });

  test('has a size limit', async () => {
    reply = { body: { padding: 'x'.repeat(4096) } };
    const res = await fetchDescriptor(endpoint.url, { maxBytes: 1024 });
    assert.equal(res.ok, false);
    assert.match((res as { error: string }).error, /is larger than 1 KiB/);
  });

  test('follows at most a few same-host redirects', async () => {
    reply = { status: 302, headers: { location: '/endpoint.json' } };
    const res = await fetchDescriptor(endpoint.url, { maxRedirects: 2 });
    assert.match((res as { error: string }).error, /more than 2 redirects/);
  });
});

describe('scheduler timing', () => {
  const t0 = Date.UTC(2024, 0, 1, 12, 0, 0);

  test('an interval keeps its grid and catches up with one tick', () => {
    const s = { interval: 60, cron: null, next_run_at: t0 };
    assert.equal(firstTick(s, t0 - 60_000), t0);
    assert.equal(nextTick(s, t0 + 20), t0 + 60_000);
    assert.equal(nextTick(s, t0 + 10 * 60_000 + 5), t0 + 11 * 60_000);
    assert.equal(nextTick(s, t0 + 10 * 60_000), t0 + 11 * 60_000);
  });

  test('a cron fires at its next time after now, in UTC', () => {
    const s = { interval: null, cron: '0 3 * * *', next_run_at: t0 };
    assert.equal(firstTick(s, t0), Date.UTC(2024, 0, 2, 3, 0, 0));
    assert.equal(nextTick(s, Date.UTC(2024, 0, 9, 3, 0, 1)), Date.UTC(2024, 0, 10, 3, 0, 0));
  });

  test('an update sending one of interval and cron clears the other', () => {
    const base = { name: 'p', key: 'acme:poll', interval: 60, cron: null, payload: {}, enabled: true };
    const toCron = parseScheduler({ cron: '*/5 * * * *' }, base);
    assert.ok(toCron.ok);
    assert.deepEqual([toCron.fields.interval, toCron.fields.cron], [null, '*/5 * * * *']);
    const both = parseScheduler({ cron: '*/5 * * * *', interval: 5 }, base);
    assert.equal(both.ok, false);
  });
});
