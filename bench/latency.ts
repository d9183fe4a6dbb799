import { request } from 'undici';
import { resetSink, sinkReceives } from './drain.js';
import { type Eld, type HubProcess, readEld, resetEld } from './hub.js';
import { PUSH_BODY } from './load.js';
import { type Child, DIST, foreignLoad, startNode, stop } from './processes.js';
import { percentiles } from './stats.js';

export interface LatencyFigure {
  offeredRate: number;
  seconds: number;
  pushed: number;
  matched: number;
  /** Push → receipt by the sink, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Push → its 201 answer, ms. */
  pushP50: number;
  pushP99: number;
  /** How late the pusher sent a push against its schedule at worst, and its own longest stall, ms. */
  pusherLagMax: number;
  pusherEldMax: number;
  /** CPU used meanwhile by processes other than the hub, the sink, the pusher and the harness. */
  otherCores: number;
  /** The hub's event-loop delay (and GC pauses) over the run. */
  eld?: Eld;
  /** The hub's WAL fdatasyncs over the run (from its /metrics): how many, how many slow. */
  walSyncs?: { count: number; over10ms: number; over25ms: number };
}

/** Cumulative bucket counts of the hub's WAL sync histogram, by upper bound in seconds. */
async function walSyncBuckets(hub: HubProcess): Promise<Map<string, number>> {
  const res = await request(`${hub.url}/metrics`);
  const text = await res.body.text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^switchyard_sqlite_wal_sync_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) {
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function syncsBetween(before: Map<string, number>, after: Map<string, number>) {
  const d = (le: string) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const count = d('+Inf');
  return { count, over10ms: count - d('0.01'), over25ms: count - d('0.025') };
}

interface PusherResult {
  sent: [string, number][];
  failed: number;
  push: { p50: number; p99: number; max: number };
  lagMaxMs: number;
  eldMaxMs: number;
  error?: string;
}

/**
 * End-to-end latency at a steady offered load, open loop (bench/pusher.ts, its own process on the
 * load core): pushes go out on a schedule whatever the answers do, each stamped with the monotonic
 * clock as it is sent. The sink stamps each delivery on arrival with the same clock (CLOCK_MONOTONIC
 * is shared by every process of the machine); they are matched by `parent_id` = the push's
 * `message_id`.
 */
export async function endToEnd(
  hub: HubProcess,
  sink: Child,
  rate: number,
  seconds: number,
  cpu: number,
): Promise<LatencyFigure> {
  const pusher = await startNode('pusher', `${DIST}bench/pusher.js`, [], { cpu, ready: /pusher ready/ });
  const run = async (runSeconds: number) => {
    const r = await pusher.ask<PusherResult>(
      {
        cmd: 'run',
        url: `${hub.url}${hub.pushPath}`,
        headers: { 'content-type': 'application/json', 'x-augury-token': hub.token },
        body: PUSH_BODY,
        rate,
        seconds: runSeconds,
      },
      (runSeconds + 60) * 1000,
    );
    if (r.error) throw new Error(`pusher: ${r.error}`);
    return r;
  };
  try {
    // A fresh process's first requests pay for undici's parser compilation, cold code and the GCs
    // that follow start-up: warm up for three seconds at the same rate (one second was not enough:
    // `ab.js --e2e` showed the first 10 s run after a start at p99 48–69 ms, the next ones at
    // 7–10 ms) and let those deliveries arrive before the measured run.
    await resetSink(sink);
    const warm = await run(3);
    await sinkReceives(sink, warm.sent.length, 60_000);
    await resetSink(sink, true);
    await resetEld(hub.child).catch(() => false);
    const syncsBefore = await walSyncBuckets(hub).catch(() => undefined);
    const others = foreignLoad([hub.child.pid, sink.pid, pusher.pid]);
    const r = await run(seconds);
    const otherCores = others();
    const syncsAfter = await walSyncBuckets(hub).catch(() => undefined);
    const walSyncs = syncsBefore && syncsAfter ? syncsBetween(syncsBefore, syncsAfter) : undefined;
    const eld = await readEld(hub.child).catch(() => undefined);
    const sentAt = new Map(r.sent);
    await sinkReceives(sink, sentAt.size, 60_000);
    const receipts = await sink.ask<[string, number][]>({ cmd: 'receipts' }, 60_000);
    const e2e: number[] = [];
    for (const [parent, at] of receipts) {
      const t0 = sentAt.get(parent);
      if (t0 !== undefined) e2e.push((at - t0) / 1000);
    }
    return {
      offeredRate: rate,
      seconds,
      pushed: sentAt.size,
      matched: e2e.length,
      ...percentiles(e2e),
      pushP50: r.push.p50,
      pushP99: r.push.p99,
      pusherLagMax: r.lagMaxMs,
      pusherEldMax: r.eldMaxMs,
      otherCores,
      ...(eld ? { eld } : {}),
      ...(walSyncs ? { walSyncs } : {}),
    };
  } finally {
    await stop(pusher);
  }
}
