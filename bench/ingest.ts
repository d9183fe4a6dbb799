import { type Eld, type HubProcess, readEld, resetEld } from './hub.js';
import { fire, type LoadResult, PUSH_BODY } from './load.js';
import { type Child, cpuSecondsOf, foreignLoad, round } from './processes.js';

export interface IngestPlan {
  warmupSeconds: number;
  seconds: number;
  connections: number;
  /** Caps each run's request count as well as its time. */
  maxRequests: number;
}

export interface IngestFigure extends LoadResult {
  /** 2xx answers over the warm-up and the measured run (what the durability check expects stored). */
  answeredTotal: number;
  /** Requests cut off unanswered when a run stopped (they may or may not have been committed). */
  unansweredTotal: number;
  /** Server CPU over the measured run, in cores (1.0 = one core busy the whole time). */
  serverCores: number;
  /** CPU used meanwhile by processes other than the server and the load generator, in cores. */
  otherCores: number;
  eld?: Eld;
}

/**
 * Pushes the seed sample at a server with autocannon from this process: a warm-up run, then the
 * measured run, both bounded in time and count. `child` is the server (for its CPU time and, when
 * probed, its event-loop delay over the measured run).
 */
export async function ingest(
  child: Child,
  url: string,
  headers: Record<string, string>,
  plan: IngestPlan,
): Promise<IngestFigure> {
  const load = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...headers },
    body: PUSH_BODY,
    connections: plan.connections,
    requests: plan.maxRequests,
  };
  const warm = await fire({
    ...load,
    seconds: plan.warmupSeconds,
    timeoutMs: (plan.warmupSeconds + 30) * 1000,
  });
  await resetEld(child).catch(() => false);
  const cpu0 = cpuSecondsOf(child.pid);
  const others = foreignLoad([child.pid]);
  const run = await fire({ ...load, seconds: plan.seconds, timeoutMs: (plan.seconds + 30) * 1000 });
  const cpu1 = cpuSecondsOf(child.pid);
  const otherCores = others();
  const eld = await readEld(child).catch(() => undefined);
  return {
    ...run,
    answeredTotal: warm.ok2xx + run.ok2xx,
    unansweredTotal: unanswered(warm) + unanswered(run),
    serverCores: round((cpu1 - cpu0) / run.seconds, 2),
    otherCores,
    ...(eld ? { eld } : {}),
  };
}

function unanswered(r: LoadResult): number {
  return Math.max(0, r.sent - r.ok2xx - r.non2xx);
}

/** `ingest` at a hub's push endpoint with its store token. */
export function ingestHub(hub: HubProcess, plan: IngestPlan): Promise<IngestFigure> {
  return ingest(hub.child, `${hub.url}${hub.pushPath}`, { 'x-augury-token': hub.token }, plan);
}
