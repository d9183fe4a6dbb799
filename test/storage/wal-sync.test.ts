import assert from 'node:assert/strict';
import { fdatasync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { type Generated, Kysely, sql } from 'kysely';
import { CachingSqliteDialect } from '../../src/storage/sqlite/dialect.js';
import { WalSyncer } from '../../src/storage/sqlite/wal-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-walsync-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function walDatabase(name: string): { file: string; db: Database.Database } {
  const file = join(dir, name);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  return { file, db };
}

/** The real fdatasync, counted, and held until released so a test can overlap calls with it. */
function heldDatasync() {
  const calls: { release: () => void }[] = [];
  const datasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    calls.push({ release: () => fdatasync(fd, cb) });
  }) as typeof fdatasync;
  return { calls, datasync };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WAL syncer', () => {
  test('callers that arrive during a sync share the next one, which starts after it', async () => {
    const { file, db } = walDatabase('coalesce.db');
    const { calls, datasync } = heldDatasync();
    const syncer = new WalSyncer(`${file}-wal`, datasync);
    db.prepare('INSERT INTO t (v) VALUES (?)').run('a');

    let firstDone = false;
    const first = syncer.sync().then(() => {
      firstDone = true;
    });
    await tick();
    assert.equal(calls.length, 1);

    // written after the first sync started: not covered by it
    db.prepare('INSERT INTO t (v) VALUES (?)').run('b');
    const later = [syncer.sync(), syncer.sync(), syncer.sync()];
    let laterDone = 0;
    for (const p of later) void p.then(() => laterDone++);
    await tick();
    assert.equal(calls.length, 1, 'no second sync while the first runs');

    calls[0]!.release();
    await first;
    assert.ok(firstDone);
    await tick();
    assert.equal(calls.length, 2, 'one sync for the three waiting callers');
    assert.equal(laterDone, 0, 'they wait for their own sync, not the first');
    calls[1]!.release();
    await Promise.all(later);
    assert.equal(calls.length, 2);
    await syncer.close();
    db.close();
  });

  test('a database never written has no WAL file and nothing to sync', async () => {
    let calls = 0;
    const datasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      calls++;
      fdatasync(fd, cb);
    }) as typeof fdatasync;
    const syncer = new WalSyncer(join(dir, 'absent.db-wal'), datasync);
    await syncer.sync();
    assert.equal(calls, 0, 'no fdatasync without a WAL file');
    await syncer.close();
  });

  test('a failed fdatasync fails its callers and every later sync: nothing is acknowledged again', async () => {
    const { file, db } = walDatabase('fail.db');
    db.prepare('INSERT INTO t (v) VALUES (?)').run('a');
    let calls = 0;
    const datasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      calls++;
      if (calls === 1) {
        const err: NodeJS.ErrnoException = new Error('EIO: i/o error');
        err.code = 'EIO';
        setImmediate(() => cb(err));
      } else fdatasync(fd, cb);
    }) as typeof fdatasync;
    const syncer = new WalSyncer(`${file}-wal`, datasync);
    await assert.rejects(syncer.sync(), /failed to sync the SQLite WAL \(EIO\).*restart/);
    db.prepare('INSERT INTO t (v) VALUES (?)').run('b');
    await assert.rejects(syncer.sync(), /failed to sync/);
    assert.equal(calls, 1, 'no sync was tried after the failure');
    await syncer.close();
    db.close();
  });
});

test('a sync queued behind a failed one fails too, without another fdatasync', async () => {
  const { file, db } = walDatabase('fail-queued.db');
  db.prepare('INSERT INTO t (v) VALUES (?)').run('a');
  const calls: ((err: NodeJS.ErrnoException | null) => void)[] = [];
  const datasync = ((_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    calls.push(cb);
  }) as typeof fdatasync;
  const syncer = new WalSyncer(`${file}-wal`, datasync);
  const first = syncer.sync();
  await tick();
  db.prepare('INSERT INTO t (v) VALUES (?)').run('b'); // committed while the first sync runs
  const queued = syncer.sync();
  const err: NodeJS.ErrnoException = new Error('EIO: i/o error');
  err.code = 'EIO';
  calls[0]!(err);
  await assert.rejects(first, /failed to sync/);
  await assert.rejects(queued, /failed to sync/);
  assert.equal(calls.length, 1, 'the queued sync did not run an fdatasync that could "succeed"');
  assert.ok(syncer.error);
  await syncer.close();
  db.close();
});

describe('SQLite dialect and the WAL sync', () => {
  function hub(name: string) {
    const { db } = walDatabase(name);
    const syncs: { resolve: () => void }[] = [];
    const sync = () => new Promise<void>((resolve) => syncs.push({ resolve }));
    const kysely = new Kysely<{ t: { id: Generated<number>; v: string } }>({
      dialect: new CachingSqliteDialect(db, sync),
    });
    return { db, kysely, syncs };
  }

  test('a write resolves only after its sync; reads never wait for one', async () => {
    const { kysely, syncs } = hub('dialect-write.db');
    let inserted = false;
    const insert = kysely
      .insertInto('t')
      .values({ v: 'x' })
      .execute()
      .then(() => {
        inserted = true;
      });
    await tick();
    assert.equal(syncs.length, 1, 'the insert asked for a sync');
    assert.equal(inserted, false, 'and waits for it');

    // the connection was released before the sync: other statements run meanwhile
    const rows = await kysely.selectFrom('t').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(syncs.length, 1, 'a read asks for no sync');

    syncs[0]!.resolve();
    await insert;
    assert.ok(inserted);
    await kysely.destroy();
  });

  test('a transaction syncs once, after COMMIT, and RETURNING writes count as writes', async () => {
    const { kysely, syncs } = hub('dialect-tx.db');
    const tx = kysely.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ v: 'a' }).execute();
      await trx.insertInto('t').values({ v: 'b' }).execute();
    });
    await tick();
    assert.equal(syncs.length, 1);
    syncs[0]!.resolve();
    await tx;

    const updated = kysely.updateTable('t').set({ v: 'c' }).returning('id').execute();
    await tick();
    assert.equal(syncs.length, 2, 'UPDATE … RETURNING asked for a sync');
    syncs[1]!.resolve();
    assert.equal((await updated).length, 2);

    const count = await sql<{ n: number }>`select count(*) as n from t`.execute(kysely);
    assert.equal(count.rows[0]!.n, 2);
    assert.equal(syncs.length, 2);
    await kysely.destroy();
  });

  test('the unsynced twin shares the connection and its lock; its writes resolve at COMMIT', async () => {
    const { db } = walDatabase('dialect-twin.db');
    const syncs: { resolve: () => void }[] = [];
    const dialect = new CachingSqliteDialect(
      db,
      () => new Promise<void>((resolve) => syncs.push({ resolve })),
    );
    type T = { t: { id: Generated<number>; v: string } };
    const synced = new Kysely<T>({ dialect });
    const early = new Kysely<T>({ dialect: dialect.unsynced() });

    // a transaction of the synced one holds the connection: the twin's statement waits for it
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const tx = synced.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ v: 'a' }).execute();
      await gate;
    });
    await tick();
    let twinDone = false;
    const twin = early
      .insertInto('t')
      .values({ v: 'b' })
      .execute()
      .then(() => {
        twinDone = true;
      });
    await tick();
    assert.equal(twinDone, false, 'waits for the open transaction');
    release();
    await twin;
    assert.equal(syncs.length, 1, "only the synced transaction's sync, which it still waits for");
    const rows = await early.selectFrom('t').select('v').orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => r.v),
      ['a', 'b'],
    );
    syncs[0]!.resolve();
    await tx;

    // the twin's destroy leaves the database open for the synced one
    await early.destroy();
    assert.equal((await synced.selectFrom('t').select('v').execute()).length, 2);
    await synced.destroy();
    assert.equal(db.open, false);
  });

  test('rows keep their column names when a table changes under a cached statement', async () => {
    const { db } = walDatabase('dialect-columns.db');
    const kysely = new Kysely<{ t: { id: Generated<number>; v: string } }>({
      dialect: new CachingSqliteDialect(db),
    });
    await kysely.insertInto('t').values({ v: 'x' }).execute();
    const all = () => sql<Record<string, unknown>>`select * from t`.execute(kysely);
    assert.deepEqual((await all()).rows, [{ id: 1, v: 'x' }]);
    // another connection (a migration run by the CLI) adds a column
    const other = new Database(db.name);
    other.exec("ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'new'");
    other.close();
    assert.deepEqual((await all()).rows, [{ id: 1, v: 'x', w: 'new' }]);
    // any alias is a plain property, `__proto__` included
    const odd = await sql<Record<string, unknown>>`select 1 as "__proto__", 2 as "a""b", 3 as "x"`.execute(
      kysely,
    );
    const row = odd.rows[0]!;
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.deepEqual(Object.entries(row), [
      ['__proto__', 1],
      ['a"b', 2],
      ['x', 3],
    ]);
    await kysely.destroy();
  });
});
