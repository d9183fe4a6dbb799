import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { cliAsync } from '../helpers/cli-async.js';
import { postgresUrl } from '../helpers/databases.js';

const url = postgresUrl();
if (!url && process.env.CI) throw new Error('CI is set but DATABASE_URL does not point at PostgreSQL');

/** A loopback port nothing listens on: one the kernel just handed out, closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('serve against a closed port names the server and the refusal, not a migration', async () => {
  const port = await closedPort();
  const res = await cliAsync([
    'serve',
    '--port',
    '0',
    '--database',
    `postgres://postgres@127.0.0.1:${port}/hub`,
  ]);
  assert.equal(res.status, 1, res.stdout + res.stderr);
  assert.equal(
    res.stderr.trim(),
    `switchyard: cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused (database postgres://postgres@127.0.0.1:${port}/hub)`,
  );
});

test('serve against a missing database names the database, not a migration', {
  skip: !url && 'needs PostgreSQL (DATABASE_URL)',
}, async () => {
  const name = `switchyard_missing_${randomBytes(4).toString('hex')}`;
  const missing = new URL(url!);
  missing.pathname = `/${name}`;
  const res = await cliAsync(['serve', '--port', '0', '--database', missing.toString()]);
  assert.equal(res.status, 1, res.stdout + res.stderr);
  const server = `${missing.hostname}:${missing.port || '5432'}`;
  assert.match(
    res.stderr,
    new RegExp(`^switchyard: database "${name}" does not exist on PostgreSQL at ${server} `),
  );
  assert.doesNotMatch(res.stderr, /migration/);
});
