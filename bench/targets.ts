import type { SeedFigure } from './archive.js';
import type { BrowseFigure } from './browse.js';
import type { BacklogFigure, DrainFigure, UndiciFigure } from './drain.js';
import type { IngestFigure } from './ingest.js';
import type { LatencyFigure } from './latency.js';
import type { ListingFigure } from './listing.js';
import type { Machine } from './machine.js';
import type { Summary } from './phases.js';
import type { Memory } from './processes.js';
import type { ProfileResult } from './profile-run.js';
import type { RoutingFigure } from './routing.js';
import type { StorageAloneFigures } from './storage-alone.js';

/** What a run produced (written as JSON to .bench/) and the targets of issue 7 evaluated on it. */

export type HubKey = 'sqlite' | 'archive' | 'postgres';

export interface Durability {
  /** Rows the pushes added to the store's queues (GET /queues, every queue and state). */
  stored: number;
  /** Pushes answered 2xx. */
  answered: number;
  /** Pushes cut off unanswered when a time-bounded run stopped: each may or may not be committed. */
  unanswered: number;
  ok: boolean;
}

export interface HubResult {
  ingest?: Summary<IngestFigure>;
  durability?: Durability;
  /** Backlog drain (drain.ts): compared with undici. */
  drain?: Summary<BacklogFigure>;
  /** Pushing and delivering at once, first push → last delivery (reported, no target). */
  pipeline?: Summary<DrainFigure>;
  latency?: LatencyFigure;
  listing?: ListingFigure;
  /** End-to-end latency while the archive is browsed (browse.ts; reported, no target). */
  browsing?: { latency: LatencyFigure; reads: BrowseFigure };
  memory?: Memory;
  /** process.memoryUsage() at the end, MB: splits the peak between the JS heap and the rest. */
  heap?: Record<string, number>;
}

export type Ratio = { median: number; rounds: number[] } | undefined;

export interface Results {
  date: string;
  mode: 'quick' | 'full';
  command: string;
  machine: Machine;
  source: { commit: string; changedSrcFiles: number };
  pinning: string;
  /** CPU other processes used in the 2 s before the run (cores). */
  otherCoresBefore?: number;
  plan: unknown;
  seconds?: number;
  baselines: { fastify?: Summary<IngestFigure>; undici?: Summary<UndiciFigure> };
  hubs: Partial<Record<HubKey, HubResult>>;
  seed?: SeedFigure;
  postgresServer?: string;
  ratios: { ingest?: Ratio; ingestP99?: Ratio; drain?: Ratio; archiveIngest?: Ratio; archiveDrain?: Ratio };
  routing?: RoutingFigure[];
  storageAlone?: StorageAloneFigures;
  profiles: { ingest?: ProfileResult; drain?: ProfileResult };
  errors: string[];
  targets?: Target[];
}

export interface Target {
  name: string;
  hub: string;
  reference: string;
  ratio: string;
  target: string;
  met: boolean | undefined;
}

export const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits });
const x = (r: Ratio) => (r === undefined ? '–' : `${r.median.toFixed(2)}×`);
const check = (r: Ratio, ok: (v: number) => boolean) => (r === undefined ? undefined : ok(r.median));

/** The targets of issue 7 (and issue 3's routing claim), each against the figure it compares with. */
export function evaluateTargets(r: Results): Target[] {
  const { fastify, undici } = r.baselines;
  const s = r.hubs.sqlite;
  const a = r.hubs.archive;
  const rows = fmt(r.seed?.rows);
  const peaks = Object.values(r.hubs).flatMap((h) => (h?.memory ? [h.memory.peakMB] : []));
  const peak = peaks.length > 0 ? Math.max(...peaks) : undefined;
  const one = r.routing?.find((f) => f.mappings === 1)?.messagesPerSecond;
  const thousand = r.routing?.find((f) => f.mappings === 1000)?.messagesPerSecond;
  const routing: Ratio = one && thousand ? { median: thousand / one, rounds: [] } : undefined;
  return [
    {
      name: 'Ingest, SQLite (req/s)',
      hub: fmt(s?.ingest?.rps),
      reference: `Fastify ${fmt(fastify?.rps)}`,
      ratio: x(r.ratios.ingest),
      target: '≥ 0.7× baseline',
      met: check(r.ratios.ingest, (v) => v >= 0.7),
    },
    {
      name: 'Ingest p99 latency (ms)',
      hub: fmt(s?.ingest?.p99, 1),
      reference: `Fastify ${fmt(fastify?.p99, 1)}`,
      ratio: x(r.ratios.ingestP99),
      target: '≤ 2× baseline',
      met: check(r.ratios.ingestP99, (v) => v <= 2),
    },
    {
      name: 'Every 2xx push stored',
      hub: s?.durability ? `${fmt(s.durability.stored)} stored` : '–',
      reference: s?.durability ? `${fmt(s.durability.answered)} answered` : '–',
      ratio: '',
      target: 'none lost',
      met: s?.durability?.ok,
    },
    {
      name: 'Drain of a backlog (deliveries/s)',
      hub: fmt(s?.drain?.rate),
      reference: `undici ${fmt(undici?.rate)}`,
      ratio: x(r.ratios.drain),
      target: '≥ 0.5× baseline',
      met: check(r.ratios.drain, (v) => v >= 0.5),
    },
    {
      name: `End-to-end p50 at ${s?.latency?.offeredRate ?? 500}/s (ms)`,
      hub: fmt(s?.latency?.p50, 2),
      reference: '',
      ratio: '',
      target: '≤ 5 ms',
      met: s?.latency ? s.latency.p50 <= 5 : undefined,
    },
    {
      name: `End-to-end p99 at ${s?.latency?.offeredRate ?? 500}/s (ms)`,
      hub: fmt(s?.latency?.p99, 2),
      reference: '',
      ratio: '',
      target: '≤ 20 ms',
      met: s?.latency ? s.latency.p99 <= 20 : undefined,
    },
    {
      name: `Ingest, ${rows} archived (req/s)`,
      hub: fmt(a?.ingest?.rps),
      reference: `empty ${fmt(s?.ingest?.rps)}`,
      ratio: x(r.ratios.archiveIngest),
      target: '≥ 0.8× empty',
      met: check(r.ratios.archiveIngest, (v) => v >= 0.8),
    },
    {
      name: `Drain, ${rows} archived (deliveries/s)`,
      hub: fmt(a?.drain?.rate),
      reference: `empty ${fmt(s?.drain?.rate)}`,
      ratio: x(r.ratios.archiveDrain),
      target: '≥ 0.8× empty',
      met: check(r.ratios.archiveDrain, (v) => v >= 0.8),
    },
    {
      name: `Filtered listing p99, ${rows} archived (ms)`,
      hub: fmt(a?.listing?.p99, 1),
      reference: `empty ${fmt(s?.listing?.p99, 1)}`,
      ratio: '',
      target: '≤ 20 ms',
      met: a?.listing ? a.listing.p99 <= 20 && a.listing.non2xx === 0 : undefined,
    },
    {
      name: 'Peak resident memory of a hub (MB)',
      hub: fmt(peak, 1),
      reference: '',
      ratio: '',
      target: '≤ 300 MB',
      met: peak === undefined ? undefined : peak <= 300,
    },
    {
      name: 'Intake, 1,000 vs 1 mapping (msgs/s)',
      hub: fmt(thousand),
      reference: `1 mapping ${fmt(one)}`,
      ratio: x(routing),
      target: '≥ 0.8× (issue 3)',
      met: check(routing, (v) => v >= 0.8),
    },
  ];
}
