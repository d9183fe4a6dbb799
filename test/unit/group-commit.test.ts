import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Committed, GroupCommitter } from '../../src/storage/group-commit.js';

const turn = () => new Promise((r) => setImmediate(r));

/** A two-phase commit whose syncs the test completes by hand; records each batch. */
function twoPhase() {
  const batches: number[][] = [];
  const syncs: (() => void)[] = [];
  const commit = async (items: number[]): Promise<Committed<string>> => {
    batches.push(items);
    const durable = new Promise<void>((resolve) => syncs.push(resolve));
    return { results: items.map((i) => `ok ${i}`), durable };
  };
  return { batches, syncs, commit };
}

/** Submits 1, lets it commit, then submits 2 and lets the committer act on it. */
async function submitTwo(committer: GroupCommitter<number, string>) {
  const first = committer.submit(1);
  await turn();
  await turn();
  const second = committer.submit(2);
  await turn();
  await turn();
  return [first, second] as const;
}

describe('group commit with a sync phase', () => {
  test('callers are answered only after their batch is durable', async () => {
    const { syncs, commit } = twoPhase();
    const committer = new GroupCommitter(commit, 500, 0, 8);
    let answered = false;
    const p = committer.submit(1).then((r) => {
      answered = true;
      return r;
    });
    await turn();
    await turn();
    assert.equal(syncs.length, 1, 'committed');
    assert.equal(answered, false, 'not answered before the sync');
    syncs[0]!();
    assert.equal(await p, 'ok 1');
  });

  test('after a small batch the next commits while it waits for its sync', async () => {
    const { batches, syncs, commit } = twoPhase();
    const committer = new GroupCommitter(commit, 500, 0, 8);
    const [first, second] = await submitTwo(committer);
    assert.deepEqual(batches, [[1], [2]], 'the second batch did not wait for the first sync');
    for (const s of syncs) s();
    assert.deepEqual(await Promise.all([first, second]), ['ok 1', 'ok 2']);
    await committer.drain();
  });

  test('after a large batch the next one fills up until the sync is over', async () => {
    const { batches, syncs, commit } = twoPhase();
    const committer = new GroupCommitter(commit, 500, 0, 8);
    const big = Array.from({ length: 10 }, (_, i) => committer.submit(i));
    await turn();
    await turn();
    assert.equal(batches.length, 1);
    const later = [committer.submit(100), committer.submit(101), committer.submit(102)];
    await turn();
    await turn();
    assert.equal(batches.length, 1, 'held behind the sync');
    syncs[0]!();
    await Promise.all(big);
    await turn();
    await turn();
    assert.deepEqual(batches[1], [100, 101, 102], 'one batch for everything that waited');
    syncs[1]!();
    await Promise.all(later);
  });

  // (the WAL syncer fails every later sync after a failure too; the committer itself is neutral)
  test('a failed sync fails its own batch only', async () => {
    const batches: number[][] = [];
    let n = 0;
    const committer = new GroupCommitter<number, string>(
      async (items) => {
        batches.push(items);
        const fail = n++ === 0;
        return {
          results: items.map(String),
          durable: fail ? Promise.reject(new Error('EIO')) : Promise.resolve(),
        };
      },
      500,
      0,
      8,
    );
    const a = committer.submit(1);
    await assert.rejects(a, /EIO/);
    assert.equal(await committer.submit(2), '2');
  });

  test('without an overlap every batch waits for the previous sync (single-phase behaviour)', async () => {
    const { batches, syncs, commit } = twoPhase();
    const committer = new GroupCommitter(commit, 500, 0, 0);
    const [first, second] = await submitTwo(committer);
    assert.deepEqual(batches, [[1]]);
    syncs[0]!();
    await first;
    await turn();
    await turn();
    assert.deepEqual(batches, [[1], [2]]);
    syncs[1]!();
    await second;
  });

  test('drain waits for batches still waiting for their sync', async () => {
    const { syncs, commit } = twoPhase();
    const committer = new GroupCommitter(commit, 500, 0, 8);
    const p = committer.submit(1);
    await turn();
    await turn();
    let drained = false;
    const d = committer.drain().then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(drained, false, 'a batch still waits for its sync');
    syncs[0]!();
    await p;
    await d;
    assert.ok(drained);
  });
});
