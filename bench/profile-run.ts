import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hubDrain, mapToSink } from './drain.js';
import { type HubProcess, startHub } from './hub.js';
import { ingest } from './ingest.js';
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
): Promise<{ ingest?: ProfileResult; drain?: ProfileResult }> {
  const dir = join(ROOT, '.bench');
  const name = (what: string) =>
    `hub-${what}-${stamp.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.cpuprofile`;
  const start = (what: string) =>
    startHub({
      name: `hub-profile-${what}`,
      dataDir: tempDir(`profile-${what}`),
      cpu,
      nodeFlags: [
        ...['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', name(what)],
        ...['--import', `${DIST}bench/sql-probe.js`],
      ],
    });
  const out: { ingest?: ProfileResult; drain?: ProfileResult } = {};

  const ingestHub = await start('ingest');
  await ingestHub.child.ask({ cmd: 'sql-reset' });
  const started = Date.now();
  const fromUs = nowUs();
  const headers = { 'x-augury-token': ingestHub.token };
  await ingest(ingestHub.child, `${ingestHub.url}${ingestHub.pushPath}`, headers, {
    ...plan.ingest,
    warmupSeconds: 1,
    seconds: plan.ingest.seconds * 2,
  });
  out.ingest = await finish(ingestHub, join(dir, name('ingest')), started, { fromUs, toUs: nowUs() });

  const drainHub = await start('drain');
  await mapToSink(drainHub, sink, plan.drain.concurrency);
  await drainHub.child.ask({ cmd: 'sql-reset' });
  const drainStarted = Date.now();
  const drainFromUs = nowUs();
  await hubDrain(drainHub, sink, plan.drain.messages, plan.drain.connections, plan.timeoutMs);
  out.drain = await finish(drainHub, join(dir, name('drain')), drainStarted, {
    fromUs: drainFromUs,
    toUs: nowUs(),
  });
  return out;
}

async function finish(
  hub: HubProcess,
  file: string,
  since: number,
  window: { fromUs: number; toUs: number },
): Promise<ProfileResult> {
  const sql = await hub.child.ask<SqlStat[]>({ cmd: 'sql-stats' }).catch(() => undefined);
  const seconds = (Date.now() - since) / 1000;
  await stop(hub.child);
  // The profile is written as the process exits; give the file system a moment.
  for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(100);
  return {
    ...summariseProfile(file, 20, window),
    ...(sql ? { sql, sqlSeconds: Math.round(seconds * 10) / 10 } : {}),
  };
}
