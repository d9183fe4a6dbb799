import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedArchive } from './archive.js';
import { startBrowsing } from './browse.js';
import { type HubProcess, startHub } from './hub.js';
import { endToEnd } from './latency.js';
import { listing } from './listing.js';
import { describeMachine, describeSource, fsyncLatency } from './machine.js';
import { drainRounds, ingestRounds, pairedRatio, type Subject } from './phases.js';
import { type BenchPlan, planFor } from './plan.js';
import { type BenchDatabase, createBenchDatabase, postgresServer, postgresVersion } from './postgres.js';
import {
  type Child,
  DIST,
  foreignLoad,
  installExitHandlers,
  memoryOf,
  onCleanup,
  pinSelf,
  ROOT,
  sleep,
  startNode,
  stop,
  stopAll,
} from './processes.js';
import { runProfiles } from './profile-run.js';
import { markdownSection, textReport } from './report.js';
import { benchRouting } from './routing.js';
import { benchStorageAlone } from './storage-alone.js';
import { evaluateTargets, type HubKey, type Results } from './targets.js';

// `npm run bench [-- --quick] [--profile | --no-profile] [--no-archive] [--no-postgres] [--no-docs] [--no-wait]`
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const plan: BenchPlan = planFor(quick, {
  profile: args.has('--profile') || (!quick && !args.has('--no-profile')),
  archive: !args.has('--no-archive'),
  postgres: !args.has('--no-postgres') && postgresServer() !== undefined,
});
const SERVER_CPU = 0;
const LOAD_CPU = 1;
const started = Date.now();
installExitHandlers();
setTimeout(() => {
  process.stderr.write(`bench: over its ${plan.budgetSeconds} s budget, giving up\n`);
  process.exit(2);
}, plan.budgetSeconds * 1000).unref();

const machine = describeMachine(); // before pinning: nproc counts the cores this process may use
const pinned = pinSelf(LOAD_CPU);
const stamp = new Date(started).toISOString();
const results: Results = {
  date: stamp,
  mode: quick ? 'quick' : 'full',
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine,
  source: describeSource(ROOT),
  pinning: pinned
    ? `servers under test (hubs, Fastify baseline, undici baseline client) on core ${SERVER_CPU} ` +
      `(\`taskset -c ${SERVER_CPU}\`); the harness (autocannon, the open-loop pusher, seeding, the ` +
      `in-process intake bench) and the sink on core ${LOAD_CPU}; PostgreSQL, when used, unpinned`
    : 'none (taskset unavailable): every process shares both cores',
  plan,
  baselines: {},
  hubs: {},
  ratios: {},
  profiles: {},
  errors: [],
};
const say = (line: string) => process.stdout.write(`${line}\n`);
const indent = (line: string) => say(`  ${line}`);
const fail = (phase: string, err: unknown) => {
  const message = `${phase}: ${(err as Error)?.message ?? err}`;
  results.errors.push(message);
  process.stderr.write(`  ${message}\n`);
};
async function waitForQuiet(maxSeconds: number): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  for (;;) {
    const others = foreignLoad([]);
    await sleep(3000);
    const cores = others();
    if (cores < 0.25) return cores;
    if (Date.now() > deadline) {
      say(`  warning: other processes use ${cores} cores; figures will be low and noisy`);
      return cores;
    }
    say(`  other processes use ${cores} cores; waiting for the machine to quieten`);
  }
}
const tempDir = (label: string) => {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-bench-${label}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

say(`Switchyard bench (${results.mode}); pinning: ${results.pinning}`);
// Other sessions' work on this machine skews every figure: wait a while for quiet, and record it.
results.otherCoresBefore = await waitForQuiet(args.has('--no-wait') ? 0 : quick ? 10 : 120);
const sink = await startNode('sink', `${DIST}bench/sink.js`, [], { cpu: LOAD_CPU });

say('\n[1/10] starting the subjects');
const hubs: Partial<Record<HubKey, HubProcess>> = {};
let fastify: Child | undefined;
let database: BenchDatabase | undefined;
try {
  fastify = await startNode('baseline-fastify', `${DIST}bench/baseline-fastify.js`, [], {
    cpu: SERVER_CPU,
    probe: true,
  });
} catch (err) {
  fail('fastify baseline', err);
}
try {
  hubs.sqlite = await startHub({ name: 'hub-sqlite', dataDir: tempDir('sqlite'), cpu: SERVER_CPU });
} catch (err) {
  fail('hub on SQLite', err);
}
if (plan.archive) {
  try {
    const dir = tempDir('archive');
    const first = await startHub({ name: 'hub-archive-init', dataDir: dir, cpu: SERVER_CPU });
    await stop(first.child);
    results.seed = seedArchive(join(dir, 'switchyard.db'), first.storeId, plan.archiveRows);
    const s = results.seed;
    indent(`seeded ${s.rows} archived rows in ${s.seconds} s (${s.rowsPerSecond}/s), file ${s.fileMiB} MiB`);
    const credentials = { storeId: first.storeId, token: first.token };
    hubs.archive = await startHub({ name: 'hub-archive', dataDir: dir, cpu: SERVER_CPU, credentials });
  } catch (err) {
    fail('hub on the seeded archive', err);
  }
}
const server = postgresServer();
if (plan.postgres && server) {
  try {
    database = await createBenchDatabase(server);
    results.postgresServer = `PostgreSQL ${await postgresVersion(server)}`;
    const url = database.url;
    hubs.postgres = await startHub({
      name: 'hub-postgres',
      dataDir: tempDir('pg'),
      databaseUrl: url,
      cpu: SERVER_CPU,
    });
  } catch (err) {
    fail('hub on PostgreSQL', err);
  }
}
indent(`running: ${[fastify ? 'fastify' : '', ...Object.keys(hubs)].filter(Boolean).join(', ')}`);
const hubSubjects: Subject[] = Object.entries(hubs).map(([key, hub]) => ({
  key,
  child: hub.child,
  hub,
  pushUrl: `${hub.url}${hub.pushPath}`,
  headers: { 'x-augury-token': hub.token },
}));
const path = '/api/stores/01a21f33-c8b9-704f-8988-a2e6347a3ed0/messages';
const fastifySubject = fastify
  ? [{ key: 'fastify', child: fastify, pushUrl: `${fastify.url}${path}`, headers: {} }]
  : [];

say(
  `\n[2/10] ingest, ${plan.ingestRounds} round(s) alternating: ${[...fastifySubject, ...hubSubjects].map((s) => s.key)}`,
);
try {
  const { figures, stored } = await ingestRounds(
    [...fastifySubject, ...hubSubjects],
    plan.ingest,
    plan.ingestRounds,
    indent,
  );
  if (figures.fastify) results.baselines.fastify = figures.fastify;
  for (const s of hubSubjects) {
    const key = s.key as HubKey;
    const f = figures[key];
    if (!f) continue;
    const extra = stored[key]! - f.answeredTotal;
    const durability = {
      stored: stored[key]!,
      answered: f.answeredTotal,
      unanswered: f.unansweredTotal,
      ok: extra >= 0 && extra <= Math.max(f.unansweredTotal, 2 * plan.ingest.connections * plan.ingestRounds),
    };
    results.hubs[key] = { ingest: f, durability };
    indent(
      `${key}: ${durability.stored} rows stored for ${durability.answered} answered (${durability.unanswered} cut off)`,
    );
  }
} catch (err) {
  fail('ingest', err);
}
if (fastify) await stop(fastify);

say(`\n[3/10] drain, ${plan.drainRounds} round(s) alternating the undici baseline and the hubs`);
try {
  const client = await startNode('undici-client', `${DIST}bench/undici-client.js`, [], {
    cpu: SERVER_CPU,
    ready: /undici-client ready/,
  });
  const out = await drainRounds(hubSubjects, client, sink, plan.drain, plan.drainRounds, indent);
  if (out.undici) results.baselines.undici = out.undici;
  for (const [key, figure] of Object.entries(out.hubs)) (results.hubs[key as HubKey] ??= {}).drain = figure;
  for (const [key, figure] of Object.entries(out.pipeline))
    (results.hubs[key as HubKey] ??= {}).pipeline = figure;
  // the backlog drains restarted the hubs: later phases use the new processes
  for (const s of hubSubjects) if (s.hub) hubs[s.key as HubKey] = s.hub;
  for (const [key, hub] of Object.entries(hubs))
    indent(`${key}: VmHWM after the drains ${memoryOf(hub.child.pid)?.peakMB} MB (this process)`);
  await stop(client);
} catch (err) {
  fail('drain', err);
}

say('\n[4/10] filtered archive listing (?message=order:new&state=completed), one connection');
for (const [key, hub] of Object.entries(hubs)) {
  try {
    const l = await listing(hub, plan.listing.seconds, plan.listing.connections);
    (results.hubs[key as HubKey] ??= {}).listing = l;
    indent(`${key}: p50 ${l.p50} ms, p99 ${l.p99} ms, ${l.rps} req/s, non-2xx ${l.non2xx}`);
  } catch (err) {
    fail(`listing ${key}`, err);
  }
}

// An operator browsing the large archive while pushes flow: the hub's event loop must stay free
// for them (the reads run on SQLite's reader thread, docs/storage.md). Same pusher and sink as the
// latency run below, on the archive hub, with the queue counts and two rare-filter listings asked
// for every `browse.everyMs`.
say(
  `\n[5/10] end-to-end latency at ${plan.latency.rate} pushes/s on the ${plan.archiveRows}-row archive while ` +
    `browsing it every ${plan.browse.everyMs} ms`,
);
if (hubs.archive) {
  try {
    const stopBrowsing = startBrowsing(hubs.archive, plan.browse.everyMs);
    const latency = await endToEnd(
      hubs.archive,
      sink,
      plan.latency.rate,
      plan.latency.seconds,
      LOAD_CPU,
    ).catch(async (err) => {
      await stopBrowsing();
      throw err;
    });
    const reads = await stopBrowsing();
    (results.hubs.archive ??= {}).browsing = { latency, reads };
    indent(
      `p50 ${latency.p50} ms, p99 ${latency.p99} ms, push→201 p99 ${latency.pushP99} ms, hub ELD max ` +
        `${latency.eld?.max} ms; ${reads.reads} reads, p50 ${reads.p50} / p99 ${reads.p99} ms, ${reads.skipped} rounds skipped`,
    );
  } catch (err) {
    fail('browsing', err);
  }
} else indent('skipped: no archive hub');

/** Records a hub's peak memory over every process it ran as (the drain restarts it), then stops it. */
async function memoryAndStop(key: string, hub: HubProcess): Promise<void> {
  const result = (results.hubs[key as HubKey] ??= {});
  const memory = memoryOf(hub.child.pid);
  if (memory) memory.peakMB = Math.max(memory.peakMB, hub.earlierPeakMB);
  if (memory) result.memory = memory;
  const heap = await hub.child.ask<Record<string, number>>({ cmd: 'memory' }).catch(() => undefined);
  if (heap) result.heap = heap;
  indent(
    `${key}: VmHWM ${memory?.peakMB} MB; now heap ${heap?.heapUsed}/${heap?.heapTotal} MB, rss ${heap?.rss} MB`,
  );
  await stop(hub.child);
}

// The latency run measures the SQLite hub alone: the other hubs are stopped first, so nothing but
// the measured hub, the pusher and the sink runs (it made no clear difference: full runs measured
// p99 36-41 ms either way, while ab.js --e2e on a hub warmed by a previous run measures 6-12 ms).
say('\n[6/10] peak memory of the hubs (the SQLite hub after the latency run)');
for (const [key, hub] of Object.entries(hubs)) if (key !== 'sqlite') await memoryAndStop(key, hub);

say(
  `\n[7/10] end-to-end latency at ${plan.latency.rate} pushes/s for ${plan.latency.seconds} s (SQLite hub)`,
);
if (hubs.sqlite) {
  try {
    const l = await endToEnd(hubs.sqlite, sink, plan.latency.rate, plan.latency.seconds, LOAD_CPU);
    (results.hubs.sqlite ??= {}).latency = l;
    indent(
      `p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms; hub ELD p99 ${l.eld?.p99} ms; others ${l.otherCores}; ` +
        `WAL syncs ${JSON.stringify(l.walSyncs)}`,
    );
  } catch (err) {
    fail('latency', err);
  }
  await memoryAndStop('sqlite', hubs.sqlite);
}
if (database) await database.drop().catch((err) => fail('dropping the PostgreSQL database', err));

say('\n[8/10] intake with 1 / 100 / 1,000 mappings (bench/routing.ts, in this process)');
try {
  results.routing = await benchRouting(plan.routing);
  indent(results.routing.map((f) => `${f.mappings}: ${f.messagesPerSecond}/s`).join(', '));
} catch (err) {
  fail('routing', err);
}

say('\n[9/10] the storage layer alone, no HTTP (bench/storage-alone.ts, in this process)');
try {
  results.storageAlone = await benchStorageAlone(plan.storageAlone);
  indent(
    `${results.storageAlone.pushesPerSecond} pushes/s, ${results.storageAlone.deliveriesPerSecond} deliveries/s`,
  );
} catch (err) {
  fail('storage alone', err);
}

if (plan.profile) {
  say('\n[10/10] CPU profiles of the hub (node --cpu-prof) under ingest and drain load');
  try {
    results.profiles = await runProfiles(plan, sink, stamp, tempDir, SERVER_CPU);
  } catch (err) {
    fail('profile', err);
  }
} else say('\n[10/10] CPU profiles: skipped (--quick without --profile)');

await stopAll();
const r = results;
r.ratios.ingest = pairedRatio(r.hubs.sqlite?.ingest, r.baselines.fastify, 'rps');
r.ratios.ingestP99 = pairedRatio(r.hubs.sqlite?.ingest, r.baselines.fastify, 'p99');
r.ratios.drain = pairedRatio(r.hubs.sqlite?.drain, r.baselines.undici, 'rate');
r.ratios.archiveIngest = pairedRatio(r.hubs.archive?.ingest, r.hubs.sqlite?.ingest, 'rps');
r.ratios.archiveDrain = pairedRatio(r.hubs.archive?.drain, r.hubs.sqlite?.drain, 'rate');
r.seconds = Math.round((Date.now() - started) / 1000);
r.machine.fsyncAtEnd = fsyncLatency();
r.targets = evaluateTargets(r);

const outDir = join(ROOT, '.bench');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `results-${stamp.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`);
writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
say(`\n${textReport(r)}`);
say(`JSON: ${file.replace(ROOT, '')}`);
if (!args.has('--no-docs')) {
  const docs = join(ROOT, 'docs/benchmarks.md');
  if (!existsSync(docs)) writeFileSync(docs, '# Benchmarks\n');
  appendFileSync(docs, `\n${markdownSection(r)}`);
  say('Appended to docs/benchmarks.md');
}
process.exit(r.errors.length > 0 ? 1 : 0);
