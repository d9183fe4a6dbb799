import { ARCHIVE_COUNT_POLICY } from '../src/storage/archive-counts.js';
import {
  type BacklogFigure,
  backlogDrain,
  type DrainFigure,
  hubDrain,
  mapToSink,
  type UndiciFigure,
  undiciDrain,
} from './drain.js';
import { type HubProcess, queueCounts, totalStored } from './hub.js';
import { type IngestFigure, type IngestPlan, ingest } from './ingest.js';
import { type Child, sleep } from './processes.js';

/**
 * The host's share of CPU time changes from minute to minute on this VM (bare Fastify measured
 * anywhere between 27,000 and 52,000 req/s in consecutive 4 s runs), so a figure and the one it is
 * compared with are measured in alternation: round after round, each subject in turn, every
 * subject running (idle when not loaded) the whole time. The reported figure is the median over
 * the rounds, and a ratio is the median of the per-round ratios.
 */
export interface Subject {
  key: string;
  child: Child;
  hub?: HubProcess;
  pushUrl: string;
  headers: Record<string, string>;
}

export type Summary<T> = T & { runs: T[]; min: number; max: number };

export function median(values: readonly number[]): number {
  const sorted = [...values].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Field by field median of numeric fields (one level of nesting), other fields from the first run. */
export function summarise<T extends object>(runs: T[], key: keyof T & string): Summary<T> {
  const first = runs[0]!;
  const out: Record<string, unknown> = { ...(first as Record<string, unknown>) };
  for (const [field, value] of Object.entries(first)) {
    if (typeof value === 'number') {
      out[field] = median(runs.map((r) => (r as Record<string, number>)[field]!));
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      const nested: Record<string, unknown> = { ...(value as object) };
      for (const [k, v] of Object.entries(value as object)) {
        if (typeof v === 'number') {
          nested[k] = median(
            runs.map((r) => (r as Record<string, Record<string, number>>)[field]?.[k] ?? NaN),
          );
        }
      }
      out[field] = nested;
    }
  }
  const values = runs.map((r) => r[key] as number);
  return { ...(out as T), runs, min: Math.min(...values), max: Math.max(...values) };
}

export interface IngestOutcome {
  figures: Record<string, Summary<IngestFigure>>;
  /** Per subject: rows added to its queues over all rounds (hubs only), for the durability check. */
  stored: Record<string, number>;
}

export async function ingestRounds(
  subjects: Subject[],
  plan: IngestPlan,
  rounds: number,
  log: (line: string) => void,
): Promise<IngestOutcome> {
  const before: Record<string, number> = {};
  for (const s of subjects) if (s.hub) before[s.key] = totalStored(await queueCounts(s.hub));
  const countedAt = Date.now();
  const runs: Record<string, IngestFigure[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const s of subjects) {
      const warmupSeconds = round === 0 ? plan.warmupSeconds : 1;
      const f = await ingest(s.child, s.pushUrl, s.headers, { ...plan, warmupSeconds });
      (runs[s.key] ??= []).push(f);
      log(
        `round ${round + 1} ${s.key}: ${f.rps} req/s, p99 ${f.p99} ms, server ${f.serverCores} cores, ` +
          `others ${f.otherCores} cores`,
      );
    }
  }
  // a hub answers a large archive's figure from its last count for up to maxMs
  // (src/storage/archive-counts.ts): the second count must be a new one
  const reusedUntil = countedAt + ARCHIVE_COUNT_POLICY.maxMs + 100;
  if (Date.now() < reusedUntil) await sleep(reusedUntil - Date.now());
  const stored: Record<string, number> = {};
  for (const s of subjects) if (s.hub) stored[s.key] = totalStored(await queueCounts(s.hub)) - before[s.key]!;
  const figures: Record<string, Summary<IngestFigure>> = {};
  for (const [key, list] of Object.entries(runs)) {
    const summary = summarise(list, 'rps');
    for (const field of ['non2xx', 'errors', 'timeouts', 'answeredTotal', 'unansweredTotal'] as const) {
      summary[field] = list.reduce((sum, f) => sum + f[field], 0);
    }
    figures[key] = summary;
  }
  return { figures, stored };
}

export interface DrainOutcome {
  undici?: Summary<UndiciFigure>;
  /** Backlog drains, the figures compared with undici. */
  hubs: Record<string, Summary<BacklogFigure>>;
  /** Pushing and delivering at once (the first push → the last delivery). */
  pipeline: Record<string, Summary<DrainFigure>>;
}

export interface DrainPlan {
  warmup: number;
  messages: number;
  connections: number;
  concurrency: number;
  undiciMessages: number;
  timeoutMs: number;
}

/** Maps every hub to the sink, warms each up, then alternates the undici baseline and the hubs. */
export async function drainRounds(
  hubs: Subject[],
  client: Child | undefined,
  sink: Child,
  plan: DrainPlan,
  rounds: number,
  log: (line: string) => void,
): Promise<DrainOutcome> {
  for (const s of hubs) {
    await mapToSink(s.hub!, sink, plan.concurrency);
    await hubDrain(s.hub!, sink, plan.warmup, Math.min(plan.connections, plan.warmup), plan.timeoutMs);
  }
  const undici: UndiciFigure[] = [];
  const runs: Record<string, BacklogFigure[]> = {};
  const pipelines: Record<string, DrainFigure[]> = {};
  for (let round = 0; round < rounds; round++) {
    if (client) {
      const u = await undiciDrain(client, sink, plan.undiciMessages, plan.concurrency, plan.timeoutMs);
      undici.push(u);
      log(`round ${round + 1} undici: ${u.rate} POST/s, others ${u.otherCores} cores`);
    }
    for (const s of hubs) {
      const { figure: b, hub } = await backlogDrain(
        s.hub!,
        sink,
        plan.messages,
        plan.connections,
        plan.timeoutMs,
      );
      s.hub = hub; // a new process on the same database
      s.child = hub.child;
      s.pushUrl = `${hub.url}${hub.pushPath}`;
      (runs[s.key] ??= []).push(b);
      log(
        `round ${round + 1} ${s.key}: backlog ${b.rate} deliveries/s (${b.messages} in ${b.seconds} s), ` +
          `others ${b.otherCores} cores`,
      );
      const d = await hubDrain(s.hub, sink, plan.messages, plan.connections, plan.timeoutMs);
      (pipelines[s.key] ??= []).push(d);
      log(
        `round ${round + 1} ${s.key}: push and deliver ${d.rate}/s (${d.messages} in ${d.seconds} s), ` +
          `others ${d.otherCores} cores`,
      );
    }
  }
  const out: DrainOutcome = { hubs: {}, pipeline: {} };
  if (undici.length > 0) out.undici = summarise(undici, 'rate');
  for (const [key, list] of Object.entries(runs)) out.hubs[key] = summarise(list, 'rate');
  for (const [key, list] of Object.entries(pipelines)) out.pipeline[key] = summarise(list, 'rate');
  return out;
}

/** Median over rounds of a / b, pairing the runs of the same round. */
export function pairedRatio(
  a: { runs: unknown[] } | undefined,
  b: { runs: unknown[] } | undefined,
  field: string,
) {
  if (!a || !b) return undefined;
  const ratios = a.runs.map((run, i) => {
    const x = (run as Record<string, number>)[field];
    const y = (b.runs[i] as Record<string, number> | undefined)?.[field];
    return x !== undefined && y ? x / y : Number.NaN;
  });
  const m = median(ratios);
  return Number.isNaN(m) ? undefined : { median: m, rounds: ratios.map((r) => Math.round(r * 100) / 100) };
}
