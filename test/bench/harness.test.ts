import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { summariseProfile } from '../../bench/profile.js';
import { mainThreadProfile } from '../../bench/profile-run.js';
import { percentiles } from '../../bench/stats.js';
import { evaluateTargets, type Results } from '../../bench/targets.js';

/** The benchmark harness's own arithmetic: what `npm run bench` reports rests on it. */

const dir = mkdtempSync(join(tmpdir(), 'switchyard-harness-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('percentiles are nearest-rank over the samples', () => {
  const values = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1000 … 1, unsorted input
  assert.deepEqual(percentiles(values), { p50: 500, p99: 990, max: 1000 });
  assert.deepEqual(percentiles([7]), { p50: 7, p99: 7, max: 7 });
  assert.ok(Number.isNaN(percentiles([]).p50));
});

test("a process with worker threads: the main thread's profile is the one picked, and summarised", () => {
  // a real node --cpu-prof run: the main thread spins in `mainSpin`, a worker thread in its own loop
  const out = join(dir, 'profiles');
  const script = `
    const { Worker } = require('node:worker_threads');
    const w = new Worker('const t = Date.now(); while (Date.now() - t < 300) {}', { eval: true });
    function mainSpin() { const t = Date.now(); let x = 0; while (Date.now() - t < 800) x++; return x; }
    mainSpin();
    w.on('exit', () => process.stdout.write(String(process.pid)));`;
  const child = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', out, '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const pid = Number(child.stdout);
  const files = readdirSync(out);
  assert.equal(files.length, 2, `one profile per thread: ${files.join(', ')}`);
  const main = mainThreadProfile(files, pid);
  assert.ok(main, `no main-thread profile among ${files.join(', ')}`);
  assert.equal(mainThreadProfile(files, pid + 1), undefined, "another process's pid matches nothing");
  const summary = summariseProfile(join(out, main), 5);
  assert.match(summary.functions[0]!.name, /^mainSpin /, JSON.stringify(summary.functions));
  // the spin is most of the run (start-up and the worker's exit are the rest), less on a machine
  // whose cores are busy with other work
  assert.ok(summary.busy > 30, `busy ${summary.busy} %`);
});

test('a profile summary keeps to its window and leaves idle samples out of the shares', () => {
  const frame = (id: number, functionName: string, url = '') => ({
    id,
    callFrame: { functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' },
  });
  const file = join(dir, 'synthetic.cpuprofile');
  writeFileSync(
    file,
    JSON.stringify({
      nodes: [frame(1, '(root)'), frame(2, '(idle)'), frame(3, 'work', 'file:///x/a.js'), frame(4, 'other')],
      startTime: 1_000,
      endTime: 11_000,
      // samples at 1,000 (start-up, outside the window) then 2,000 … 10,000, each lasting 1,000 µs
      samples: [4, 3, 3, 2, 2, 3, 4, 3, 3, 3],
      timeDeltas: [0, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000],
    }),
  );
  const s = summariseProfile(file, 5, { fromUs: 1_500, toUs: 11_000 });
  // in the window: work ×6 (one of them the last sample, which has no duration), idle ×2, other ×1
  const work = s.functions.find((f) => f.name.startsWith('work '));
  const other = s.functions.find((f) => f.name === 'other');
  assert.equal(work?.ms, 5);
  assert.equal(other?.ms, 1);
  assert.equal(work?.share, 83.3);
  assert.equal(s.busy, 63.2, '6 ms busy of 9.5 ms');
  assert.equal(
    s.functions.find((f) => f.name === '(idle)'),
    undefined,
  );
});

/** A run's results with only what evaluateTargets reads. */
function results(over: Partial<Results>): Results {
  return {
    date: '',
    mode: 'full',
    command: '',
    machine: {} as Results['machine'],
    source: { commit: '', changedSrcFiles: 0 },
    pinning: '',
    plan: {},
    baselines: {},
    hubs: {},
    ratios: {},
    profiles: {},
    errors: [],
    ...over,
  };
}

test('each target is met at its bound and missed just past it; a figure not measured is neither', () => {
  const at = (median: number) => ({ median, rounds: [median] });
  const met = (r: Results) =>
    Object.fromEntries(evaluateTargets(r).map((t) => [t.name.replace(/ \(.*/, ''), t.met]));
  const bounds = met(
    results({
      ratios: {
        ingest: at(0.7),
        ingestP99: at(2),
        drain: at(0.5),
        archiveIngest: at(0.8),
        archiveDrain: at(0.8),
      },
    }),
  );
  assert.equal(bounds['Ingest, SQLite'], true);
  assert.equal(bounds['Ingest p99 latency'], true);
  assert.equal(bounds['Drain of a backlog'], true);
  const past = met(
    results({
      ratios: {
        ingest: at(0.69),
        ingestP99: at(2.01),
        drain: at(0.49),
        archiveIngest: at(0.79),
        archiveDrain: at(0.79),
      },
    }),
  );
  for (const name of ['Ingest, SQLite', 'Ingest p99 latency', 'Drain of a backlog'])
    assert.equal(past[name], false, name);
  const none = met(results({}));
  for (const [name, value] of Object.entries(none)) assert.equal(value, undefined, name);
});
