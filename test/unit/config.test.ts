import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig } from '../../src/config.js';
import { isPostgresUrl, sqliteFile } from '../../src/storage/open.js';

test('defaults are the documented ones', () => {
  const c = loadConfig({}, {});
  assert.equal(c.port, 4000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.role, 'all');
  assert.equal(c.bodyLimit, DEFAULTS.bodyLimit);
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.adminToken, undefined);
  assert.ok(c.dataDir.endsWith('data'));
});

test('flags > environment > config file > defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ port: 5000, host: '0.0.0.0', logLevel: 'debug' }));
  const c = loadConfig({ port: '7000' }, { PORT: '6000', HOST: '127.0.0.2' }, file);
  assert.equal(c.port, 7000);
  assert.equal(c.host, '127.0.0.2');
  assert.equal(c.logLevel, 'debug');
  assert.equal(loadConfig({}, { PORT: '6000' }, file).port, 6000);
  assert.equal(loadConfig({}, {}, file).port, 5000);
});

test('a bad value names the setting, its sources, the value and what is allowed', () => {
  assert.throws(
    () => loadConfig({ port: 'abc' }, {}),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /port \(--port \/ PORT\): "abc" — must be a whole number from 0 to 65535/);
      return true;
    },
  );
  assert.throws(() => loadConfig({}, { SWITCHYARD_ROLE: 'boss' }), /role .*"boss".*one of all, api, worker/);
  assert.throws(() => loadConfig({}, { SWITCHYARD_ADMIN_TOKEN: 'short' }), /adminToken.*at least 16/);
  assert.throws(() => loadConfig({}, { LOG_LEVEL: 'loud' }), /logLevel/);
  assert.throws(
    () => loadConfig({ databaseUrl: 'mysql://x/y' }, {}),
    /databaseUrl \(--database \/ DATABASE_URL\): "mysql:\/\/x\/y" — must be a postgres:\/\/ or postgresql:\/\/ URL/,
  );
  assert.throws(
    () => loadConfig({}, { SWITCHYARD_POOL_SIZE: '0' }),
    /invalid setting poolSize \(SWITCHYARD_POOL_SIZE\): "0"/,
  );
  for (const ok of [
    'postgres://h/db',
    'postgresql://h/db',
    'sqlite:hub.db',
    'sqlite:///tmp/hub.db',
    './hub.db',
    'POSTGRES://h/db',
    'SQLITE:hub.db',
    'C:\\data\\hub.db',
  ])
    assert.equal(loadConfig({ databaseUrl: ok }, {}).databaseUrl, ok);
});

test('database URLs are read whatever the case of their scheme', () => {
  assert.ok(isPostgresUrl('POSTGRESQL://h/db'));
  assert.equal(sqliteFile('SQLITE:/tmp/x.db', '/data'), '/tmp/x.db');
  assert.equal(sqliteFile(undefined, '/data'), '/data/switchyard.db');
});

test('a config file with an unknown key or bad JSON is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
  const typo = join(dir, 'typo.json');
  writeFileSync(typo, JSON.stringify({ prot: 1 }));
  assert.throws(() => loadConfig({}, {}, typo), /unknown setting "prot"/);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{');
  assert.throws(() => loadConfig({}, {}, broken), /cannot read config file/);
});

test('endpoint URL policy settings: booleans and lists from every source, checked', () => {
  const d = loadConfig({}, {});
  assert.equal(d.endpointLoopback, true);
  assert.deepEqual(d.endpointAllow, []);
  assert.deepEqual(d.endpointDeny, []);
  const c = loadConfig(
    { endpointLoopback: 'false' },
    { SWITCHYARD_ENDPOINT_ALLOW: '10.1.0.0/16, erp.internal', SWITCHYARD_ENDPOINT_DENY: '*.evil.example' },
  );
  assert.equal(c.endpointLoopback, false);
  assert.deepEqual(c.endpointAllow, ['10.1.0.0/16', 'erp.internal']);
  assert.deepEqual(c.endpointDeny, ['*.evil.example']);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ endpointLoopback: false, endpointDeny: ['203.0.113.0/24'] }));
  const f = loadConfig({}, {}, file);
  assert.equal(f.endpointLoopback, false);
  assert.deepEqual(f.endpointDeny, ['203.0.113.0/24']);
  assert.throws(
    () => loadConfig({}, { SWITCHYARD_ENDPOINT_LOOPBACK: 'no' }),
    /invalid setting endpointLoopback \(--endpoint-loopback \/ SWITCHYARD_ENDPOINT_LOOPBACK\): "no" — must be true or false/,
  );
  assert.throws(
    () => loadConfig({ endpointAllow: '10/8' }, {}),
    /invalid setting endpointAllow .*"10\/8" is not a CIDR, an IP address or a host name/,
  );
  writeFileSync(file, JSON.stringify({ endpointDeny: [1] }));
  assert.throws(() => loadConfig({}, {}, file), /invalid setting endpointDeny/);
});
