import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { newStore } from '../../src/http/routes/stores.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { SqliteReader } from '../../src/storage/sqlite/reader.js';
import { newIncoming } from '../helpers/messages.js';
import { ROOT } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-reader-'));
const file = join(dir, 'hub.db');
const ARCHIVED = 300_000;
let storage: Storage;
let storeId: string;

before(async () => {
  storage = await openStorage({ databaseUrl: file, dataDir: dir });
  const { store, token } = newStore('Reader');
  storeId = store.id;
  await storage.createStore(store, token);
  await storage.close();
  // A large archive written straight into the file: every row `completed`, so a listing of the
  // `never_processed` ones matches nothing and must read every archived row to say so.
  const db = new Database(file);
  db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO messages (id, store_id, message, payload, queue_name, state, source, origin, created_at)
     SELECT printf('0000-%08d', i), ?, 'order:new', '{"order":{}}', 'archived', 'completed', 'incoming', 'push', i
     FROM n`,
  ).run(ARCHIVED, storeId);
  db.close();
  storage = await openStorage({ databaseUrl: file, dataDir: dir });
});

after(async () => {
  await storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * better-sqlite3 runs a statement on the calling thread. A listing that scans a large archive
 * used to hold the hub's only event loop for the whole scan: no push was answered, no delivery
 * settled meanwhile. Listings and counts now run on the reader thread.
 */
test('a listing that scans the whole archive leaves the event loop free: a push commits meanwhile', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = performance.now();
  let pushedAt = 0;
  let listedAt = 0;
  try {
    const listing = storage
      .listQueue(storeId, 'archived', { state: 'never_processed' }, { page: 1, per_page: 25 })
      .then((r) => {
        listedAt = performance.now();
        return r;
      });
    // the push starts after the listing was sent and is answered before the scan ends
    const push = new Promise((r) => setTimeout(r, 5)).then(async () => {
      const outcome = await storage.push({ message: newIncoming(storeId) });
      pushedAt = performance.now();
      return outcome;
    });
    const [listed] = await Promise.all([listing, push]);
    assert.equal(listed.total, 0);
    assert.deepEqual(listed.items, []);
  } finally {
    clearInterval(timer);
  }
  const scanMs = listedAt - started;
  assert.ok(pushedAt > 0 && pushedAt < listedAt, `push at ${pushedAt - started} ms, listing at ${scanMs} ms`);
  assert.ok(ticks >= 3, `only ${ticks} timer ticks during a ${scanMs.toFixed(0)} ms scan`);
  // the counts of GET …/queues read the same archive off the event loop too
  const counts = await storage.queueCounts(storeId);
  assert.equal(counts.archived, ARCHIVED);
});

test('the reader sees what was committed before it reads, and reports SQL errors as errors', async () => {
  const outcome = await storage.push({ message: newIncoming(storeId, 'acme:reader:seen') });
  const listed = await storage.listQueue(
    storeId,
    'incoming',
    { message: 'acme:reader:seen' },
    { page: 1, per_page: 25 },
  );
  assert.equal(listed.total, 1, `listed ${JSON.stringify(listed.items)} after ${JSON.stringify(outcome)}`);

  const reader = new SqliteReader(file);
  try {
    await assert.rejects(reader.read('SELECT nope FROM messages', []), /no such column: nope/);
    // the connection is read-only: a write that slipped through would be refused
    await assert.rejects(reader.read('DELETE FROM messages', []), /readonly|query_only|attempt to write/i);
    assert.deepEqual(await reader.read('SELECT count(*) AS n FROM stores', []), [{ n: 1 }]);
  } finally {
    await reader.close();
  }
  await assert.rejects(reader.read('SELECT 1', []), /closed/);
});

/** The nice value of a thread of this process (Linux: /proc/self/task/<tid>/stat, field 19). */
function niceOf(tid: string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const niceThreads = () => readdirSync('/proc/self/task').filter((tid) => niceOf(tid) === 19).length;

test('the reader thread runs at the lowest CPU priority, the rest of the process at its own', {
  skip: existsSync('/proc/self/task') ? false : 'no /proc/self/task on this system',
}, async () => {
  const main = niceOf(String(process.pid));
  const before = niceThreads();
  const reader = new SqliteReader(file);
  try {
    await reader.read('SELECT 1 AS one', []);
    assert.equal(niceThreads(), before + 1, 'one more thread at nice 19: the reader');
    assert.equal(niceOf(String(process.pid)), main, 'the main thread keeps its own');
  } finally {
    await reader.close();
  }
});

test('closing while a read is under way answers it, and the process waits for the thread to end', () => {
  // in a process of its own: a close that let the event loop run dry before the worker had exited
  // would end that process early, with an unresolved await (exit code 13)
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/helpers/reader-close-child.ts'), file],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(child.status, 0, `exit ${child.status}: ${child.stderr}`);
  assert.match(child.stdout, /every close resolved after its read/);
});

test('a read whose parameters cannot be sent to the thread fails alone; the next one is answered', async () => {
  const reader = new SqliteReader(file);
  try {
    await assert.rejects(reader.read('SELECT ? AS v', [() => 1]), { name: 'DataCloneError' });
    assert.deepEqual(await reader.read('SELECT ? AS v', [7]), [{ v: 7 }]);
  } finally {
    await reader.close();
  }
});

test('statements read together see one snapshot, though commits land while they run', async () => {
  const other = join(dir, 'snapshot.db');
  const writer = new Database(other);
  writer.pragma('journal_mode = WAL');
  writer.exec('CREATE TABLE ticks (n INTEGER)');
  const tick = writer.prepare('INSERT INTO ticks (n) VALUES (1)');
  const reader = new SqliteReader(other);
  const COUNT = { sql: 'SELECT count(*) AS n FROM ticks', params: [] };
  // ~0.1 s of work on the reader thread between the two counts
  const SLOW = {
    sql: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000) SELECT count(*) AS c FROM n',
    params: [],
  };
  // this thread commits until the reads are answered, however slowly the reader thread gets to them
  const commitUntil = async <T>(reads: Promise<T>): Promise<T> => {
    let done = false;
    void reads.finally(() => {
      done = true;
    });
    while (!done) {
      tick.run();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return reads;
  };
  try {
    await reader.read('SELECT 1', []); // the thread is up
    const [before, , after] = await commitUntil(
      Promise.all([reader.read(COUNT.sql, []), reader.read(SLOW.sql, []), reader.read(COUNT.sql, [])]),
    );
    assert.notDeepEqual(before, after, 'read apart, the second count sees the commits made meanwhile');

    const [first, , last] = await commitUntil(reader.readTogether([COUNT, SLOW, COUNT]));
    assert.deepEqual(first, last, 'read together, both counts come from one snapshot');
    const [now] = await reader.readTogether([COUNT]);
    assert.notDeepEqual(now, first, 'commits did land while they ran');
  } finally {
    await reader.close();
    writer.close();
  }
});
