import type { IngestFigure } from './ingest.js';
import type { LatencyFigure } from './latency.js';
import type { Summary } from './phases.js';
import { evaluateTargets, fmt, type HubKey, type Results } from './targets.js';

const mark = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? 'met' : 'MISSED');
const range = (s: { min: number; max: number; runs: unknown[] }) =>
  s.runs.length > 1 ? ` (${fmt(s.min)}–${fmt(s.max)} over ${s.runs.length})` : '';

/** An end-to-end latency run's detail line; `more` is appended to its notes. */
function latencyRow(label: string, what: string, l: LatencyFigure, more = ''): string[] {
  return [
    label,
    what,
    `p50 ${fmt(l.p50, 2)} ms`,
    `p99 ${fmt(l.p99, 2)} / max ${fmt(l.max, 1)} ms`,
    `${fmt(l.matched)}/${fmt(l.pushed)} matched; push→201 p50 ${l.pushP50} / p99 ${l.pushP99} ms; ` +
      `hub ELD p99 ${fmt(l.eld?.p99, 1)} / max ${fmt(l.eld?.max, 1)} ms; pusher late ≤ ${l.pusherLagMax} ms; ` +
      `others ${l.otherCores}` +
      (l.walSyncs
        ? `; WAL syncs ${fmt(l.walSyncs.count)}, over 10 ms ${l.walSyncs.over10ms}, over 25 ms ${l.walSyncs.over25ms}`
        : '') +
      more,
  ];
}

/** Detail lines beside the targets: everything measured. */
export function detailRows(r: Results): string[][] {
  const rows: string[][] = [];
  const f = r.baselines.fastify;
  if (f) rows.push(ingestRow('Fastify baseline', f));
  const u = r.baselines.undici;
  if (u) {
    rows.push([
      'undici baseline',
      'drain',
      `${fmt(u.rate)} POST/s${range(u)}`,
      `p50 ${fmt(u.p50, 2)} / p99 ${fmt(u.p99, 2)} ms`,
      `${fmt(u.messages)} a round, ${u.failed} failed, client ${u.serverCores} cores, others ${u.otherCores}`,
    ]);
  }
  const labels: Record<HubKey, string> = {
    sqlite: 'Hub, SQLite, empty',
    archive: `Hub, SQLite, ${fmt(r.seed?.rows)} archived`,
    postgres: `Hub, ${r.postgresServer ?? 'PostgreSQL'}`,
  };
  for (const key of ['sqlite', 'archive', 'postgres'] as const) {
    const s = r.hubs[key];
    const label = labels[key];
    if (!s) continue;
    if (s.ingest) rows.push(ingestRow(label, s.ingest));
    if (s.drain) {
      const d = s.drain;
      rows.push([
        label,
        'drain (backlog)',
        `${fmt(d.rate)} deliveries/s${range(d)}`,
        '',
        `${fmt(d.messages)} pushed, then delivered in ${d.seconds} s; hub ${d.serverCores} cores (start-up ` +
          `included), others ${d.otherCores}, ELD p99 ${fmt(d.eld?.p99, 1)} ms`,
      ]);
    }
    if (s.pipeline) {
      const d = s.pipeline;
      rows.push([
        label,
        'push + deliver',
        `${fmt(d.rate)} messages/s${range(d)}`,
        `pushes took ${d.pushSeconds} s`,
        `${fmt(d.messages)} a round, first push → last delivery ${d.seconds} s, hub ${d.serverCores} cores, ` +
          `others ${d.otherCores}, ELD p99 ${fmt(d.eld?.p99, 1)} ms`,
      ]);
    }
    if (s.latency) rows.push(latencyRow(label, `e2e @${s.latency.offeredRate}/s`, s.latency));
    if (s.browsing) {
      const { latency: l, reads: b } = s.browsing;
      rows.push(
        latencyRow(
          label,
          `e2e @${l.offeredRate}/s while browsing`,
          l,
          `; browsing every ${b.everyMs} ms: ${b.reads} reads (counts, 2 rare-filter listings), ` +
            `p50 ${fmt(b.p50, 0)} / p99 ${fmt(b.p99, 0)} ms, non-2xx ${b.non2xx}, failed ${b.failed}, ` +
            `${b.skipped} rounds skipped (the one before unanswered)`,
        ),
      );
    }
    if (s.listing) {
      const l = s.listing;
      rows.push([
        label,
        'listing',
        `${fmt(l.rps)} req/s`,
        `p50 ${fmt(l.p50, 1)} / p99 ${fmt(l.p99, 1)} ms`,
        `${l.connections} connection, non-2xx ${l.non2xx}; after ${l.warmupSeconds} s of warm-up; ` +
          `the first listing after the start ${fmt(l.firstMs, 1)} ms`,
      ]);
    }
    if (s.memory) {
      const h = s.heap;
      const split = h ? `at the end: JS heap ${h.heapUsed} used / ${h.heapTotal} MB, rss ${h.rss} MB` : '';
      rows.push([label, 'memory', `peak ${fmt(s.memory.peakMB, 1)} MB`, '', split]);
    }
  }
  if (r.seed) {
    rows.push([
      'archive seeding',
      'setup',
      `${fmt(r.seed.rowsPerSecond)} rows/s`,
      '',
      `${fmt(r.seed.rows)} rows + ${fmt(r.seed.attempts)} attempts, ${r.seed.fileMiB} MiB file`,
    ]);
  }
  const a = r.storageAlone;
  if (a) {
    // the best ratio the hub could reach if its HTTP work cost what the baseline's does and its
    // storage work what it costs alone (bench/storage-alone.ts): S / (B + S)
    const figures = [
      ['push', a.pushesPerSecond, 'pushes/s', f?.rps],
      ['intake + lease + settle', a.deliveriesPerSecond, 'deliveries/s', u?.rate],
    ] as const;
    for (const [what, alone, unit, baseline] of figures) {
      const ceiling = baseline
        ? `ceiling ${(alone / (baseline + alone)).toFixed(2)}× of the baseline (S / (B + S))`
        : '';
      rows.push(['Storage alone (no HTTP, per CPU-second)', what, `${fmt(alone)} ${unit}`, '', ceiling]);
    }
  }
  for (const g of r.routing ?? []) {
    rows.push([
      'Intake (in-process)',
      `${fmt(g.mappings)} mappings`,
      `${fmt(g.messagesPerSecond)} msgs/s`,
      '',
      '',
    ]);
  }
  return rows;
}

function ingestRow(label: string, f: Summary<IngestFigure>): string[] {
  return [
    label,
    'ingest',
    `${fmt(f.rps)} req/s${range(f)}`,
    `p50 ${fmt(f.p50, 1)} / p99 ${fmt(f.p99, 1)} / p99.9 ${fmt(f.p999, 1)} ms`,
    `non-2xx ${f.non2xx}, errors ${f.errors}, server ${f.serverCores} cores, others ${f.otherCores}, ` +
      `ELD p99 ${fmt(f.eld?.p99, 1)} ms`,
  ];
}

const TARGET_HEAD = ['Target', 'Hub', 'Reference', 'Ratio', 'Target', 'Result'];
const DETAIL_HEAD = ['Run', 'What', 'Figure (median)', 'Latency', 'Notes'];

/** Plain-text tables for stdout. */
export function textReport(r: Results): string {
  const targets = r.targets ?? evaluateTargets(r);
  const t1 = table(
    TARGET_HEAD,
    targets.map((t) => [t.name, t.hub, t.reference, t.ratio, t.target, mark(t.met)]),
  );
  const errors = r.errors.length > 0 ? `\n\nErrors:\n${r.errors.map((e) => `  ${e}`).join('\n')}` : '';
  return `${t1}\n\n${table(DETAIL_HEAD, detailRows(r))}${errors}\n`;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const md = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`),
  ].join('\n');

/** The section appended to docs/benchmarks.md. */
export function markdownSection(r: Results): string {
  const m = r.machine;
  const targets = r.targets ?? evaluateTargets(r);
  const lines = [
    `## ${r.date.slice(0, 16).replace('T', ' ')} UTC — ${r.mode} run`,
    '',
    `- Command: \`${r.command}\` (${r.seconds ?? '?'} s in all)`,
    `- Machine: ${m.nproc} cores (\`nproc\`), ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}; ` +
      `fdatasync p50 ${m.fsync.p50} ms / p99 ${m.fsync.p99} ms at the start, ` +
      `${m.fsyncAtEnd?.p50 ?? '?'} / ${m.fsyncAtEnd?.p99 ?? '?'} ms at the end; load average ${m.loadAverage}, ` +
      `other processes using ${r.otherCoresBefore ?? '?'} cores just before`,
    `- Code: commit ${r.source.commit}, ${r.source.changedSrcFiles} file(s) under src/ changed since`,
    `- Pinning: ${r.pinning}`,
    '',
    md(
      TARGET_HEAD,
      targets.map((t) => [
        t.name,
        t.hub,
        t.reference,
        t.ratio,
        t.target,
        t.met === false ? '**missed**' : mark(t.met),
      ]),
    ),
    '',
    md(DETAIL_HEAD, detailRows(r)),
  ];
  for (const [label, p] of [
    ['ingest', r.profiles.ingest],
    ['drain', r.profiles.drain],
  ] as const) {
    if (!p) continue;
    lines.push(
      '',
      `CPU profile of the hub under ${label} load (\`${p.file}\`, the ${p.seconds} s under load, start-up ` +
        `left out; on CPU or in a native call ${p.busy} % of that time). Self time, share of the busy samples:`,
      '',
      md(
        ['Function', '%', 'Module', '%'],
        Array.from({ length: Math.min(12, Math.max(p.functions.length, p.modules.length)) }, (_, i) => [
          p.functions[i]?.name ?? '',
          p.functions[i] ? `${p.functions[i].share}` : '',
          p.modules[i]?.name ?? '',
          p.modules[i] ? `${p.modules[i].share}` : '',
        ]),
      ),
    );
    if (p.sql && p.sqlSeconds) {
      const total = p.sql.reduce((sum, q) => sum + q.totalMs, 0);
      lines.push(
        '',
        `SQLite statements on the event-loop thread over the same ${p.sqlSeconds} s (${fmt(total)} ms, ` +
          `${fmt((total / 10 / p.sqlSeconds) as number, 1)} % of the wall time, COMMIT's fsync included):`,
        '',
        md(
          ['Statement', 'Calls', 'Total ms', 'µs each', 'Longest ms'],
          p.sql
            .slice(0, 10)
            .map((q) => [`\`${q.sql}\``, fmt(q.calls), fmt(q.totalMs), fmt(q.avgUs), fmt(q.maxMs, 1)]),
        ),
      );
    }
  }
  if (r.errors.length > 0) lines.push('', 'Errors:', '', ...r.errors.map((e) => `- ${e}`));
  return `${lines.join('\n')}\n`;
}
