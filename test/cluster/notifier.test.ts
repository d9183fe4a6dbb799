import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { PgNotifier, WAKE_CHANNEL, type WakeChannel } from '../../src/storage/postgres/notifier.js';
import { freshDatabase, postgresUrl } from '../helpers/databases.js';
import { eventually } from '../helpers/endpoint.js';

const url = postgresUrl();
if (!url && process.env.CI) throw new Error('CI is set but DATABASE_URL does not point at PostgreSQL');

test('the LISTEN connection: wake-ups, a catch-up after its connection is killed, reconnects by itself', {
  skip: !url && 'needs PostgreSQL (DATABASE_URL)',
}, async () => {
  const db = await freshDatabase('postgres');
  const wakes: WakeChannel[] = [];
  const errors: Error[] = [];
  const notifier = new PgNotifier(
    db.url,
    (c) => wakes.push(c),
    (e) => errors.push(e),
  );
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    notifier.start();
    // the first connect reports a catch-up for both queues
    await eventually(async () => wakes.includes('incoming') && wakes.includes('accepted'));
    wakes.length = 0;
    await client.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, 'accepted']);
    await client.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, 'nonsense']);
    await eventually(async () => wakes.includes('accepted'));
    assert.ok(!wakes.includes('nonsense' as WakeChannel));

    // kill the listener's backend: it must notice, reconnect, catch up and hear new notifications
    wakes.length = 0;
    await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    );
    await eventually(async () => errors.length > 0, 10_000, 'the lost connection to be noticed');
    await eventually(
      async () => wakes.includes('incoming') && wakes.includes('accepted'),
      10_000,
      'a catch-up',
    );
    wakes.length = 0;
    await client.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, 'incoming']);
    await eventually(async () => wakes.includes('incoming'), 10_000, 'a wake-up after reconnecting');
  } finally {
    await notifier.stop();
    await client.end();
    await db.drop();
  }
});
