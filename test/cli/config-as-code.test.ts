import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliAsync } from '../helpers/cli-async.js';
import { backends } from '../helpers/databases.js';
import { TestEndpoint } from '../helpers/endpoint.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call } from '../helpers/mappings.js';

const descriptor = {
  name: 'shop',
  services: [
    {
      name: 'orders',
      path: '/orders',
      requires: {
        parameters: [
          { name: 'api_key', data_type: 'string' },
          { name: 'region', data_type: 'string', default: 'eu' },
        ],
      },
      recommends: { messages: ['order:new'] },
    },
    { name: 'shipments', path: '/shipments', recommends: { messages: ['shipment:ready'] } },
  ],
};

function configFile(endpointUrl: string): string {
  return `# the store's configuration
version: 1
integrations:
  shop:
    url: ${endpointUrl}
    token: endpoint-key
    category: commerce
mappings:
  shop.orders:
    integration: shop
    url: ${endpointUrl}/orders
    token: endpoint-key
    messages: [order:new]
    identifiers: { order: payload.order.number }
    options: { retries_allowed: false }
  audit.all_orders:
    url: ${endpointUrl}/audit
    token: audit-token
    messages: ['order:*']
    filters:
      - { path: payload.order.status, operator: eq, value: complete }
    enabled: false
parameters:
  shop.api_key: k-1
  shop.rate: { value: 3, data_type: float }
  shop.lookup:
    - { standard: UPS Ground, nextday: UPS Next Day }
  __proto__: a valid name, exported like any other
schedulers:
  poll-orders:
    key: acme:orders:poll
    interval: 300
    payload: { since: yesterday }
`;
}

for (const backend of backends()) {
  describe(`configuration as code (${backend})`, () => {
    let t: TestHub;
    let endpoint: TestEndpoint;
    let dir: string;
    const run = (...args: string[]) =>
      cliAsync([...args, '--url', t.hub.url, '--store', t.storeId, '--token', t.token]);
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const snapshot = async () =>
      JSON.stringify(
        await Promise.all(
          ['integrations', 'mappings', 'parameters', 'schedulers'].map(
            async (r) => (await call(t, 'GET', r)).body,
          ),
        ),
      );

    before(async () => {
      t = await testHub(backend, { listen: true });
      endpoint = await TestEndpoint.start((r) => ({ body: r.path === '/endpoint.json' ? descriptor : {} }));
      dir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
    });
    after(async () => {
      await t.close();
      await endpoint.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('apply creates everything the file lists and prints the plan', async () => {
      const res = await run('apply', write('store.yaml', configFile(endpoint.url)));
      assert.equal(res.status, 0, res.stderr + res.stdout);
      for (const line of [
        /create\s+integration\s+shop/,
        /create\s+mapping\s+shop\.orders/,
        /create\s+mapping\s+audit\.all_orders/,
        /create\s+parameter\s+shop\.lookup/,
        /create\s+scheduler\s+poll-orders/,
        /8 to create, 0 to update, 0 to delete, 0 unchanged/,
      ]) {
        assert.match(res.stdout, line);
      }
      const shop = (await call(t, 'GET', 'integrations/shop')).body;
      assert.equal(shop.status, 'ready');
      assert.equal(shop.category, 'commerce');
      const mappings = (await call(t, 'GET', 'mappings')).body;
      const orders = mappings.find((m: any) => m.name === 'shop.orders');
      assert.equal(orders.integration_id, shop.id);
      assert.deepEqual(orders.identifiers, { order: 'payload.order.number' });
      assert.equal(orders.options.retries_allowed, false);
      const audit = mappings.find((m: any) => m.name === 'audit.all_orders');
      assert.equal(audit.integration_id, null);
      assert.equal(audit.enabled, false);
      const rate = (await call(t, 'GET', 'parameters/shop.rate')).body;
      assert.deepEqual([rate.value, rate.data_type], [3, 'float']);
      // the sign-up filled in the default of the parameter the file did not list
      assert.equal((await call(t, 'GET', 'parameters/shop.region')).body.value, 'eu');
      const poll = (await call(t, 'GET', 'schedulers/poll-orders')).body;
      assert.deepEqual(
        [poll.key, poll.interval, poll.payload],
        ['acme:orders:poll', 300, { since: 'yesterday' }],
      );
    });

    test('apply → export → apply changes nothing', async () => {
      const exported = join(dir, 'exported.yaml');
      const res = await run('export', '--out', exported);
      assert.equal(res.status, 0, res.stderr);
      assert.equal(statSync(exported).mode & 0o777, 0o600, 'it holds secrets: its owner only');
      const text = readFileSync(exported, 'utf8');
      assert.match(text, /shop\.rate:\n\s+value: 3\n\s+data_type: float/);
      assert.match(text, /integration: shop/);
      assert.match(text, /\n {2}__proto__: a valid name, exported like any other\n/);
      const before = await snapshot();
      for (const file of [exported, join(dir, 'store.yaml')]) {
        const again = await run('apply', file);
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stdout, /0 to create, 0 to update, 0 to delete/);
        assert.match(again.stdout, /Nothing to do/);
      }
      assert.equal(await snapshot(), before);
      assert.equal((await run('export')).stdout, text, 'two exports are identical');
    });

    test('--dry-run prints the plan and changes nothing', async () => {
      const before = await snapshot();
      // schedules that cannot come due while the suite runs: a run between two snapshots would
      // change last_run_at and next_run_at, which no apply touches
      const edited = configFile(endpoint.url)
        .replace('shop.api_key: k-1', 'shop.api_key: k-2')
        .replace('interval: 300', 'interval: 7200')
        .replace("messages: ['order:*']", "messages: ['order:*', 'shipment:*']")
        .concat('  extra-poll:\n    key: acme:stock:poll\n    cron: "0 4 1 1 *"\n');
      const res = await run('apply', write('edited.yaml', edited), '--dry-run');
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, /update\s+parameter\s+shop\.api_key\s+\(value\)/);
      assert.match(res.stdout, /update\s+scheduler\s+poll-orders\s+\(interval\)/);
      assert.match(res.stdout, /update\s+mapping\s+audit\.all_orders\s+\(messages\)/);
      assert.match(res.stdout, /create\s+scheduler\s+extra-poll/);
      assert.match(res.stdout, /Dry run: nothing was changed/);
      assert.equal(await snapshot(), before);

      const applied = await run('apply', join(dir, 'edited.yaml'));
      assert.equal(applied.status, 0, applied.stderr);
      assert.equal((await call(t, 'GET', 'parameters/shop.api_key')).body.value, 'k-2');
      assert.equal((await call(t, 'GET', 'schedulers/extra-poll')).body.cron, '0 4 1 1 *');
    });

    test('without --prune, the plan lists what only the store has as kept', async () => {
      const before = await snapshot();
      // the store now holds what the previous test applied
      const trimmed = readFileSync(join(dir, 'edited.yaml'), 'utf8')
        .replace(/ {2}audit\.all_orders:\n(?: {4}.*\n| {6}.*\n)+/, '')
        .replace(/ {2}shop\.lookup:\n {4}- .*\n/, '');
      const file = write('kept.yaml', trimmed);
      const dry = await run('apply', file, '--dry-run');
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(
        dry.stdout,
        /\n {2}kept {6}mapping {5}audit\.all_orders {2}\(not in the file; --prune would delete it\)\n/,
      );
      assert.match(
        dry.stdout,
        /\n {2}kept {6}parameter {3}shop\.lookup {2}\(not in the file; --prune would delete it\)\n/,
      );
      assert.match(
        dry.stdout,
        /0 to delete, \d+ unchanged, \d+ kept \(not in the file; --prune would delete them\)/,
      );
      assert.doesNotMatch(dry.stdout, /\bdelete {3}/);
      // applied without --prune, they stay: nothing else differs, so there is nothing to do
      const applied = await run('apply', file);
      assert.equal(applied.status, 0, applied.stderr);
      assert.match(applied.stdout, /Nothing to do/);
      assert.equal(await snapshot(), before);
    });

    test('--prune deletes what the file does not list', async () => {
      const trimmed = configFile(endpoint.url)
        .replace(/ {2}audit\.all_orders:\n(?: {4}.*\n| {6}.*\n)+/, '')
        .replace(/ {2}shop\.lookup:\n {4}- .*\n/, '');
      assert.doesNotMatch(trimmed, /audit|lookup/);
      const res = await run('apply', write('trimmed.yaml', trimmed), '--prune');
      assert.equal(res.status, 0, res.stderr + res.stdout);
      assert.match(res.stdout, /delete\s+mapping\s+audit\.all_orders/);
      assert.match(res.stdout, /delete\s+parameter\s+shop\.lookup/);
      assert.match(res.stdout, /delete\s+parameter\s+shop\.region/);
      assert.match(res.stdout, /delete\s+scheduler\s+extra-poll/);
      const mappings = (await call(t, 'GET', 'mappings')).body.map((m: any) => m.name);
      assert.deepEqual(mappings, ['shop.orders']);
      const schedulers = (await call(t, 'GET', 'schedulers')).body.map((s: any) => s.name);
      assert.deepEqual(schedulers, ['poll-orders']);
      assert.equal((await call(t, 'GET', 'parameters/shop.lookup')).status, 404);
      const again = await run('apply', join(dir, 'trimmed.yaml'), '--prune');
      assert.match(again.stdout, /0 to create, 0 to update, 0 to delete/);
    });

    test('a file with errors is rejected as a whole, naming line and field', async () => {
      const before = await snapshot();
      const bad = configFile(endpoint.url)
        .replace('shop.api_key: k-1', 'shop.api_key: k-3')
        .replace(`url: ${endpoint.url}/audit`, 'url: ftp://example.com/audit')
        .replace('interval: 300', 'interval: 0')
        .replace('operator: eq', 'operator: about');
      const file = write('bad.yaml', bad);
      const res = await run('apply', file);
      assert.equal(res.status, 1);
      const lineOf = (needle: string) => bad.split('\n').findIndex((l) => l.includes(needle)) + 1;
      assert.match(
        res.stderr,
        new RegExp(`bad\\.yaml:${lineOf('ftp://')}:\\d+: /mappings/audit\\.all_orders/url: `),
      );
      assert.match(
        res.stderr,
        new RegExp(`bad\\.yaml:${lineOf('interval: 0')}:\\d+: /schedulers/poll-orders/interval: `),
      );
      assert.match(
        res.stderr,
        new RegExp(
          `bad\\.yaml:${lineOf('operator: about')}:\\d+: /mappings/audit\\.all_orders/filters/0/operator: `,
        ),
      );
      assert.match(res.stderr, /nothing was changed/);
      assert.equal(res.stdout, '');
      assert.equal(await snapshot(), before, 'the valid change in the same file was not applied either');

      const broken = write('broken.yaml', 'mappings:\n  a.b:\n    url: x\n  a.b:\n    url: y\n');
      const dup = await run('apply', broken);
      assert.equal(dup.status, 1);
      assert.match(dup.stderr, /broken\.yaml:4:3: \/: Map keys must be unique/);
      const unknown = await run('apply', write('unknown.yaml', 'version: 1\nmapings: {}\n'));
      assert.match(unknown.stderr, /unknown\.yaml:2:1: \/mapings: is not a section/);
      // a field the hub sets (a GET answer pasted in) is refused, not silently dropped
      const pasted = await run(
        'apply',
        write(
          'pasted.yaml',
          `mappings:\n  audit.x:\n    url: ${endpoint.url}/x\n    token: k\n    messages: [order:new]\n    version: 3\n`,
        ),
      );
      assert.equal(pasted.status, 1);
      assert.match(pasted.stderr, /pasted\.yaml:6:\d+: \/mappings\/audit\.x\/version: is set by the hub/);
      // an alias to a node around it: rejected before anything is applied (it used to fail half-way)
      const loop = await run(
        'apply',
        write('loop.yaml', 'parameters:\n  aaa_first: hello\n  zzz: &a\n    value: [*a]\n'),
      );
      assert.equal(loop.status, 1);
      assert.match(loop.stderr, /loop\.yaml:\d+:\d+: \/parameters\/zzz\/value\/0: contains itself/);
      assert.equal(await snapshot(), before);
    });
  });
}
