import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backlogDrain, hubDrain, mapToSink } from '../drain.js';
import { startHub } from '../hub.js';
import { ingestHub } from '../ingest.js';
import { endToEnd } from '../latency.js';
import { median } from '../phases.js';
import { createBenchDatabase, postgresServer } from '../postgres.js';
import { DIST, installExitHandlers, memoryOf, pinSelf, startNode, stop, stopAll } from '../processes.js';

/**
 * A/B of two builds on this machine, for a change's before and after: the same ingest and drain
 * as the full bench, alternating the two hubs round by round (the VM's speed drifts by minutes).
 *
 *   node dist/bench/probes/ab.js OTHER_CHECKOUT [--rounds N] [--e2e] [-- serve options for both]
 *
 * --postgres runs the drains on a fresh PostgreSQL database each (DATABASE_URL names the server).
 * --e2e measures end-to-end latency at 500 pushes/s (10 s a round) instead of ingest and drain;
 * --fill N pushes N messages into each hub first. --backlog measures the backlog drain (the figure
 * the full bench compares with raw undici) instead of push-and-deliver; --no-ingest skips ingest,
 * --no-drain the drain.
 *
 * OTHER_CHECKOUT is a directory with a built `dist/` (e.g. `git worktree add /tmp/old HEAD~1`,
 * `npm ci && npm run build` there). Prints medians and per-round figures; appends nothing.
 */
const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const extraArgs = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
const other = own.find((a, i) => !a.startsWith('--') && own[i - 1] !== '--other-flags');
if (!other) throw new Error('usage: probes/ab.js OTHER_CHECKOUT [--rounds N] [-- serve options]');
const rounds = Number(own[own.indexOf('--rounds') + 1] ?? 3) || 3;
installExitHandlers();
pinSelf(1);

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'switchyard-ab-'));
  dirs.push(d);
  return d;
};
const sink = await startNode('sink', `${DIST}bench/sink.js`, [], { cpu: 1 });
if (own.includes('--e2e')) {
  const p99s: Record<string, number[]> = { this: [], other: [] };
  // --probe: time every SQL statement (sql-probe.ts) and print the slowest after each run
  const probe = own.includes('--probe') ? ['--import', `${DIST}bench/sql-probe.js`] : [];
  let hubs = await Promise.all(
    [undefined, other].map((root, i) =>
      startHub({ name: `e2e-${i}`, dataDir: tmp(), cpu: 0, root, extraArgs, nodeFlags: probe }),
    ),
  );
  const fillAt = own.indexOf('--fill');
  const fill = fillAt >= 0 ? Number(own[fillAt + 1]) : 0;
  for (const hub of hubs) {
    // a database that already holds `fill` pushes (the full bench's hub has ~200,000 by then)
    if (fill > 0) {
      await ingestHub(hub, { warmupSeconds: 0, seconds: 60, connections: 100, maxRequests: fill });
    }
    await mapToSink(hub, sink, 64);
    // --deliver N: push and deliver N messages first, as the full bench's drain phase does
    const deliverAt = own.indexOf('--deliver');
    if (deliverAt >= 0) await hubDrain(hub, sink, Number(own[deliverAt + 1]), 64, 300_000);
  }
  // --restart: a new process on the same database before measuring (the full bench's drain does)
  if (own.includes('--restart')) {
    hubs = await Promise.all(
      hubs.map(async (h) => {
        await stop(h.child);
        return startHub({ ...h.options, credentials: { storeId: h.storeId, token: h.token } });
      }),
    );
  }
  for (let r = 0; r < rounds; r++) {
    for (const [i, key] of ['this', 'other'].entries()) {
      const l = await endToEnd(hubs[i]!, sink, 500, 10, 1);
      p99s[key]!.push(l.p99);
      if (probe.length > 0) {
        type Stat = { sql: string; calls: number; totalMs: number; maxMs: number };
        const stats = await hubs[i]!.child.ask<Stat[]>({ cmd: 'sql-stats' }).catch(() => []);
        for (const st of [...stats].sort((a, b) => b.maxMs - a.maxMs).slice(0, 4))
          process.stdout.write(`   max ${st.maxMs} ms ×${st.calls} ${st.sql.slice(0, 90)}\n`);
        await hubs[i]!.child.ask({ cmd: 'sql-reset' }).catch(() => undefined);
      }
      process.stdout.write(
        `round ${r + 1} ${key} e2e: p50 ${l.p50} p99 ${l.p99} max ${l.max} ms; push→201 p99 ${l.pushP99} ms; ` +
          `ELD max ${l.eld?.max} ms; WAL syncs ${JSON.stringify(l.walSyncs)}\n`,
      );
    }
  }
  for (const [i, key] of ['this', 'other'].entries()) {
    const inside = await hubs[i]!.child.ask<{ peak?: unknown }>({ cmd: 'memory' }).catch(() => undefined);
    process.stdout.write(
      `${key}: e2e p99 median ${median(p99s[key]!)} ms; peak RSS ${memoryOf(hubs[i]!.child.pid)?.peakMB} MB, ` +
        `peaks inside ${JSON.stringify(inside?.peak)}\n`,
    );
  }
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  process.exit(0);
}
// --other-flags "…": Node flags for the other checkout's hubs only (e.g. a V8 setting on one build)
const otherFlagsAt = own.indexOf('--other-flags');
const otherFlags = otherFlagsAt >= 0 ? (own[otherFlagsAt + 1] ?? '').split(' ').filter(Boolean) : [];
const subjects = [
  { key: 'this', root: undefined as string | undefined, flags: [] as string[] },
  { key: 'other', root: other, flags: otherFlags },
];
const ingestHubs = own.includes('--no-ingest')
  ? []
  : await Promise.all(
      subjects.map((s) =>
        startHub({
          name: `${s.key}-ingest`,
          dataDir: tmp(),
          cpu: 0,
          root: s.root,
          extraArgs,
          nodeFlags: s.flags,
        }),
      ),
    );
const rates: Record<string, number[]> = { this: [], other: [] };
const drains: Record<string, number[]> = { this: [], other: [] };
for (let r = 0; ingestHubs.length > 0 && r < rounds; r++) {
  for (const [i, s] of subjects.entries()) {
    const hub = ingestHubs[i]!;
    const fig = await ingestHub(hub, {
      warmupSeconds: 2,
      seconds: 4,
      connections: 100,
      maxRequests: 300_000,
    });
    rates[s.key]!.push(fig.rps);
    process.stdout.write(
      `round ${r + 1} ${s.key} ingest: ${fig.rps} req/s p99 ${fig.p99} ms cores ${fig.serverCores}, ` +
        `peak RSS ${memoryOf(hub.child.pid)?.peakMB} MB\n`,
    );
  }
}
await Promise.all(ingestHubs.map((h) => stop(h.child)));
// --postgres: the drains run on a fresh PostgreSQL database each (DATABASE_URL names the server)
const pgServer = own.includes('--postgres') ? postgresServer() : undefined;
if (own.includes('--postgres') && !pgServer) throw new Error('--postgres needs DATABASE_URL=postgres://…');
for (let r = 0; !own.includes('--no-drain') && r < rounds; r++) {
  for (const s of subjects) {
    // a fresh hub per drain round: the drain must not inherit the ingest's backlog
    const database = pgServer ? await createBenchDatabase(pgServer) : undefined;
    const hub = await startHub({
      name: `${s.key}-drain`,
      dataDir: tmp(),
      cpu: 0,
      root: s.root,
      extraArgs,
      nodeFlags: s.flags,
      ...(database ? { databaseUrl: database.url } : {}),
    });
    await mapToSink(hub, sink, 64);
    await hubDrain(hub, sink, 1000, 64, 120_000);
    if (own.includes('--backlog')) {
      const { figure, hub: worker } = await backlogDrain(hub, sink, 8000, 64, 120_000);
      drains[s.key]!.push(figure.rate);
      const peak = memoryOf(worker.child.pid)?.peakMB;
      const inside = await worker.child.ask<{ peak?: unknown }>({ cmd: 'memory' }).catch(() => undefined);
      process.stdout.write(
        `round ${r + 1} ${s.key} backlog drain: ${figure.rate}/s, ELD p99 ${figure.eld?.p99} max ${figure.eld?.max} ms, ` +
          `GC ${JSON.stringify(figure.eld?.gc)}, peak RSS ${peak} MB, ` +
          `peaks inside ${JSON.stringify(inside?.peak)}\n`,
      );
      if (own.includes('--then-push')) {
        // as the full bench does: push and deliver on the process that drained the backlog
        const fig = await hubDrain(worker, sink, 8000, 64, 120_000);
        const after = await worker.child.ask<{ peak?: unknown }>({ cmd: 'memory' }).catch(() => undefined);
        process.stdout.write(
          `round ${r + 1} ${s.key} then push and deliver: ${fig.rate}/s, peak RSS ` +
            `${memoryOf(worker.child.pid)?.peakMB} MB, peaks inside ${JSON.stringify(after?.peak)}\n`,
        );
      }
      await stop(worker.child);
      await database?.drop();
    } else {
      const fig = await hubDrain(hub, sink, 8000, 64, 120_000);
      drains[s.key]!.push(fig.rate);
      process.stdout.write(
        `round ${r + 1} ${s.key} drain: ${fig.rate}/s (pushes took ${fig.pushSeconds} s), ` +
          `peak RSS ${memoryOf(hub.child.pid)?.peakMB} MB\n`,
      );
      await stop(hub.child);
      await database?.drop();
    }
  }
}
for (const s of subjects) {
  process.stdout.write(
    `${s.key}: ingest median ${median(rates[s.key]!)} req/s, drain median ${median(drains[s.key]!)}/s\n`,
  );
}
await stopAll();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
process.exit(0);
