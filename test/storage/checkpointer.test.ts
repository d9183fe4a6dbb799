import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { startCheckpointer } from '../../src/storage/sqlite/checkpointer.js';
import { checkpointRemainder } from '../../src/storage/sqlite/open.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-checkpointer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FRAME = 4096 + 24;

/**
 * Under writes that never pause, the worker's passive checkpoints alone never let the log start
 * over (each pass finds new frames behind it), so it would grow until the main connection's
 * automatic checkpoint copied the rest on the event loop. Once the log holds `restartFrames`, the
 * worker calls for a restart after its passes; the main connection's checkpoint then copies only
 * what came in since, and the next write starts the log from its beginning, again and again.
 */
test('under writes that never pause, the log keeps starting over instead of growing', async () => {
  const file = join(dir, 'hub.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0'); // no automatic checkpoint: only these two
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  let restarts = 0;
  const stop = startCheckpointer(
    file,
    () => {
      restarts++;
      checkpointRemainder(db);
    },
    { everyMs: 50, restartFrames: 300 },
  );
  const row = 'x'.repeat(2000); // a frame a commit, or two
  let written = 0;
  try {
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      for (let i = 0; i < 20; i++) insert.run(row);
      written += 20;
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    await stop();
  }
  const walFrames = statSync(`${file}-wal`).size / FRAME;
  const startedOver = walCheckpointSequence(`${file}-wal`);
  db.close();
  assert.ok(written > 5000, `only ${written} writes: the machine is too slow for this test to mean anything`);
  assert.ok(restarts > 0, 'the worker called for restarts');
  // Each time the log starts over from its beginning, SQLite writes a new header with its
  // checkpoint sequence number one higher. Several restarts in 1.5 s of writing is what this test
  // is about; it does not depend on how much CPU the worker thread got in any one stretch.
  assert.ok(startedOver >= 2, `the log started over ${startedOver} times`);
  // Without restarts the log holds two frames for every write (2.03 a write measured). The file's
  // size is its high-water mark, so one stretch in which the worker thread got no CPU stays in it:
  // 0.16-0.19 frames a write on a quiet machine, 0.59 under concurrent test files, 1.16 once on a
  // loaded CI machine. Twice the write count would be the log never starting over.
  assert.ok(
    walFrames < written * 1.5,
    `the WAL grew to ${Math.round(walFrames)} frames for ${written} writes`,
  );
});

/** The checkpoint sequence number of a WAL file: bytes 12-15 of its header, big-endian. */
function walCheckpointSequence(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(32);
    readSync(fd, header, 0, 32, 0);
    return header.readUInt32BE(12);
  } finally {
    closeSync(fd);
  }
}
