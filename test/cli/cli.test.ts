import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { eventually } from '../helpers/endpoint.js';
import { bannerCredentials, cli, ROOT, type ServerProcess, serve } from '../helpers/process.js';

const seed = join(ROOT, 'test/fixtures/new_product.json');

describe('CLI', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('store create / list / token create, list, revoke work on the database directly', () => {
    const created = cli(['store', 'create', '--name', 'Acme', '--json', '--data', dir]);
    assert.equal(created.status, 0, created.stderr);
    const store = JSON.parse(created.stdout);
    assert.equal(store.name, 'Acme');
    assert.match(store.token, /^sy_/);
    const listed = cli(['store', 'list', '--json', '--data', dir]);
    assert.deepEqual(
      JSON.parse(listed.stdout).map((s: { id: string }) => s.id),
      [store.id],
    );
    const tokenCreated = JSON.parse(
      cli(['store', 'token', 'create', store.id, '--json', '--data', dir]).stdout,
    );
    const tokens = JSON.parse(cli(['store', 'token', 'list', store.id, '--json', '--data', dir]).stdout);
    assert.equal(tokens.length, 2);
    const revoked = cli(['store', 'token', 'revoke', store.id, tokenCreated.id, '--data', dir]);
    assert.equal(revoked.status, 0, revoked.stderr);
    const again = cli(['store', 'token', 'revoke', store.id, tokenCreated.id, '--data', dir]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /no active token/);
  });

  test("store commands on the database apply the API's rules", () => {
    for (const name of ['   ', 'x'.repeat(201)]) {
      const res = cli(['store', 'create', '--name', name, '--data', dir]);
      assert.equal(res.status, 1);
      assert.match(res.stderr, /--name must not be blank and at most 200 characters/);
    }
    const missing = cli(['store', 'token', 'list', 'no-such-store', '--data', dir]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /store no-such-store not found/);
  });

  test('a hub that never answers ends a remote command after SWITCHYARD_CLIENT_TIMEOUT', async () => {
    // accepts connections (the kernel does, even while this process waits) and never answers
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const started = Date.now();
      const res = cli(['export', '--url', url, '--store', 's', '--token', 't'], {
        SWITCHYARD_CLIENT_TIMEOUT: '1',
      });
      assert.equal(res.status, 1);
      assert.match(res.stderr, /timeout/i);
      assert.ok(Date.now() - started < 30_000);
    } finally {
      silent.close();
    }
  });

  test('an invalid setting stops start-up naming the setting, the value and what is allowed', () => {
    const res = cli(['serve', '--port', 'abc', '--data', dir]);
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /port.*--port.*PORT.*"abc".*whole number/);
    const role = cli(['serve', '--role', 'boss', '--data', dir]);
    assert.match(role.stderr, /role.*"boss".*one of all, api, worker/);
    // a database that cannot be reached is named (its password masked)
    const down = cli(['serve', '--port', '0', '--database', 'postgres://hub:secret@127.0.0.1:1/none']);
    assert.equal(down.status, 1);
    assert.match(down.stderr, /\(database postgres:\/\/hub:\*\*\*@127\.0\.0\.1:1\/none\)/);
    assert.doesNotMatch(down.stderr, /secret/);
  });

  describe('against a running server', () => {
    let server: ServerProcess;
    let data: string;
    before(async () => {
      data = mkdtempSync(join(tmpdir(), 'switchyard-serve-'));
      server = await serve(['--data', data, '--admin-token', 'cli-admin-token-1234', '--log-level', 'info']);
    });
    after(async () => {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
      rmSync(data, { recursive: true, force: true });
    });

    test('a first start that cannot listen creates no store, so the next one prints the token', () => {
      const fresh = mkdtempSync(join(tmpdir(), 'switchyard-taken-'));
      try {
        const port = new URL(server.url).port;
        const failed = cli(['serve', '--port', port, '--host', '127.0.0.1', '--data', fresh]);
        assert.notEqual(failed.status, 0);
        assert.match(failed.stderr, /EADDRINUSE/);
        const stores = cli(['store', 'list', '--json', '--data', fresh]);
        assert.deepEqual(JSON.parse(stores.stdout), []);
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
    });

    test('a second serve on the same SQLite database refuses to start; store commands still run beside it', () => {
      const second = cli(['serve', '--port', '0', '--data', data]);
      assert.equal(second.status, 1);
      assert.match(
        second.stderr,
        /another Switchyard process is serving .*switchyard\.db \(a hub on SQLite is one process/,
      );
      assert.equal(cli(['store', 'list', '--json', '--data', data]).status, 0);
    });

    test('first start prints the banner before any log line, and its push runs as printed', async () => {
      // the banner is written once the port is bound, Fastify's "Server listening" line before that
      await eventually(async () => /Server listening/.test(server.output()), 5000, 'the held log lines');
      const out = server.output();
      assert.match(out, /^Switchyard \S+ listening on http:\/\/127\.0\.0\.1:\d+ /);
      assert.ok(out.indexOf('Created "Default Store"') < out.indexOf('Server listening'), out);
      const exports = /^ {2}(export HUB=.*)$/m.exec(out)?.[1];
      const curl = /^ {2}(curl .*)$/m.exec(out)?.[1];
      assert.ok(exports && curl, out);
      // pasted into a shell anywhere: not in the repository, where no sample file lies about
      const cwd = mkdtempSync(join(tmpdir(), 'switchyard-paste-'));
      try {
        const pasted = spawnSync('sh', ['-c', `${exports}\n${curl} --silent --write-out '\\n%{http_code}'`], {
          cwd,
          encoding: 'utf8',
        });
        const [body, status] = pasted.stdout.trim().split('\n');
        assert.equal(status, '201', pasted.stdout + pasted.stderr);
        assert.match(JSON.parse(body ?? '').message_id, /^[0-9a-f-]{36}$/);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });

    test('push FILE answers with the echo and an id', () => {
      const { storeId, token } = bannerCredentials(server.output());
      const res = cli(['push', storeId, seed, '--token', token, '--url', server.url]);
      assert.equal(res.status, 0, res.stderr);
      const body = JSON.parse(res.stdout);
      assert.equal(body.message, 'product:new');
      assert.ok(body.message_id);
      const wrong = cli(['push', storeId, seed, '--token', 'sy_nope', '--url', server.url]);
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /401.*Token is invalid/);
    });

    test('store create with --url uses the admin API', async () => {
      const res = cli([
        'store',
        'create',
        '--name',
        'Remote',
        '--json',
        '--url',
        server.url,
        '--admin-token',
        'cli-admin-token-1234',
      ]);
      assert.equal(res.status, 0, res.stderr);
      const store = JSON.parse(res.stdout);
      const check = await request(`${server.url}/api/stores/${store.id}/queues`, {
        headers: { 'x-augury-token': store.token },
      });
      assert.equal(check.statusCode, 200);
      await check.body.dump();
    });

    test('store create works on the database while the server runs', async () => {
      const res = cli(['store', 'create', '--name', 'Beside', '--json', '--data', data]);
      assert.equal(res.status, 0, res.stderr);
      const store = JSON.parse(res.stdout);
      const check = await request(`${server.url}/api/stores/${store.id}/queues`, {
        headers: { 'x-augury-token': store.token },
      });
      assert.equal(check.statusCode, 200);
      await check.body.dump();
    });
  });
});
