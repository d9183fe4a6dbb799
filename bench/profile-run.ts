import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { backlogDrain, mapToSink } from './drain.js';
import { type HubProcess, startHub } from './hub.js';
import { ingestHub } from './ingest.js';
import type { BenchPlan } from './plan.js';
import { type Child, DIST, ROOT, sleep, stop } from './processes.js';
import { type ProfileSummary, summariseProfile } from './profile.js';
import { nowUs } from './stats.js';

export interface SqlStat {
  sql: string;
  calls: number;
  totalMs: number;
  avgUs: number;
  maxMs: number;
}

export type ProfileResult = ProfileSummary & { sql?: SqlStat[]; sqlSeconds?: number };

/**
 * Two fresh hubs under `node --cpu-prof` (profiles written to .bench/) with the SQL timing probe
 * (sql-probe.ts): one under the ingest load, one under the drain. They run after the measured
 * runs and are not part of any figure: profiling slows the hub down.
 */
export async function runProfiles(
  plan: BenchPlan,
  sink: Child,
  stamp: string,
  tempDir: (label: string) => string,
  cpu: number,
  /** Time every SQL statement (sql-probe.ts); off, the profile shows the hub as it runs. */
  probe = true,
): Promise<{ ingest?: ProfileResult; drain?: ProfileResult }> {
  const dir = join(ROOT, '.bench');
  const name = (what: string) =>
    `hub-${what}-${stamp.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.cpuprofile`;
  // Every thread of a process run with --cpu-prof writes a profile of its own (the SQLite
  // checkpointer and reader are worker threads), so a fixed --cpu-prof-name let a worker's
  // profile overwrite the main thread's (the 14:31 run's drain profile was the reader's). Each
  // profiled process writes into a directory of its own, and finish() keeps the main thread's.
  const dirs = { ingest: join(dir, 'profiles-ingest'), drain: join(dir, 'profiles-drain') };
  const start = (what: 'ingest' | 'drain') =>
    startHub({
      name: `hub-profile-${what}`,
      dataDir: tempDir(`profile-${what}`),
      cpu,
      nodeFlags: [
        ...['--cpu-prof', '--cpu-prof-dir', emptied(dirs[what])],
        ...(probe ? ['--import', `${DIST}bench/sql-probe.js`] : []),
      ],
    });
  const out: { ingest?: ProfileResult; drain?: ProfileResult } = {};

  const hubForIngest = await start('ingest');
  if (probe) await hubForIngest.child.ask({ cmd: 'sql-reset' });
  const started = Date.now();
  const fromUs = nowUs();
  await ingestHub(hubForIngest, {
    ...plan.ingest,
    warmupSeconds: 1,
    seconds: plan.ingest.seconds * 2,
  });
  out.ingest = await finish(
    hubForIngest,
    dirs.ingest,
    join(dir, name('ingest')),
    started,
    { fromUs, toUs: nowUs() },
    probe,
  );

  // the backlog drain restarts the hub twice (api role, then all): the profile and SQL timings
  // are those of the last process, which drains the backlog
  const first = await start('drain');
  await mapToSink(first, sink, plan.drain.concurrency);
  const drainStarted = Date.now();
  const { hub: drainHub, window } = await backlogDrain(
    first,
    sink,
    plan.drain.messages,
    plan.drain.connections,
    plan.timeoutMs,
  );
  // the window is first → last delivery: the new process's start-up (module loading, schema
  // compilation) is left out
  out.drain = await finish(drainHub, dirs.drain, join(dir, name('drain')), drainStarted, window, probe);
  return out;
}

/**
 * The main thread's profile of process `pid` among file names: Node names a profile
 * CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile, the main thread being thread 0.
 */
export function mainThreadProfile(files: readonly string[], pid: number): string | undefined {
  const own = new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.0\\.\\d+\\.cpuprofile$`);
  return files.find((f) => own.test(f));
}

function emptied(d: string): string {
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return d;
}

async function finish(
  hub: HubProcess,
  from: string,
  file: string,
  since: number,
  window: { fromUs: number; toUs: number },
  probe: boolean,
): Promise<ProfileResult> {
  const sql = probe ? await hub.child.ask<SqlStat[]>({ cmd: 'sql-stats' }).catch(() => undefined) : undefined;
  const seconds = (Date.now() - since) / 1000;
  const pid = hub.child.pid;
  await stop(hub.child);
  // written as the process exits
  let found: string | undefined;
  for (let i = 0; i < 50 && !found; i++) {
    found = mainThreadProfile(readdirSync(from), pid);
    if (!found) await sleep(100);
  }
  if (!found) throw new Error(`no CPU profile of process ${pid} in ${from}`);
  renameSync(join(from, found), file);
  rmSync(from, { recursive: true, force: true });
  return {
    ...summariseProfile(file, 20, window),
    ...(sql ? { sql, sqlSeconds: Math.round(seconds * 10) / 10 } : {}),
  };
}
