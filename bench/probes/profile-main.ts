import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planFor } from '../plan.js';
import { DIST, installExitHandlers, pinSelf, startNode, stopAll } from '../processes.js';
import { runProfiles } from '../profile-run.js';

/**
 * The bench's CPU profiles alone (ingest and backlog drain, hub pinned to core 0, SQL probe on),
 * for a look at one change without the whole run: `node dist/bench/probes/profile-main.js [--messages N] [--no-sql]` (--no-sql: without the probe, which
 * slows every statement down).
 * Prints each profile's file, its top functions and the SQL statements by total time.
 */
const argv = process.argv.slice(2);
const at = argv.indexOf('--messages');
installExitHandlers();
pinSelf(1);
const plan = planFor(true, { profile: true, archive: false, postgres: false });
if (at >= 0) plan.drain.messages = Number(argv[at + 1]);
const dirs: string[] = [];
const sink = await startNode('sink', `${DIST}bench/sink.js`, [], { cpu: 1 });
const out = await runProfiles(
  plan,
  sink,
  new Date().toISOString(),
  (label) => {
    const d = mkdtempSync(join(tmpdir(), `switchyard-profile-${label}-`));
    dirs.push(d);
    return d;
  },
  0,
  !argv.includes('--no-sql'),
);
for (const [what, p] of Object.entries(out)) {
  if (!p) continue;
  process.stdout.write(`\n${what}: ${p.file}, ${p.seconds} s, busy ${p.busy} %\n`);
  for (const f of p.functions.slice(0, 12)) process.stdout.write(`  ${f.share} % ${f.name}\n`);
  for (const s of (p.sql ?? []).slice(0, 10))
    process.stdout.write(
      `  sql ×${s.calls} avg ${s.avgUs} µs, max ${s.maxMs} ms, ${Math.round(s.totalMs)} ms: ${s.sql.slice(0, 80)}\n`,
    );
}
await stopAll();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
process.exit(0);
