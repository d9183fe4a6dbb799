import {
  type Eld,
  type HubProcess,
  hubCall,
  queueCounts,
  readEld,
  resetEld,
  startHub,
  waitFor,
} from './hub.js';
import { fire, PUSH_BODY } from './load.js';
import { type Child, cpuSecondsOf, foreignLoad, memoryOf, round, stop } from './processes.js';
import { nowUs } from './stats.js';

export interface SinkStats {
  count: number;
  firstUs: number;
  lastUs: number;
}

export function sinkStats(sink: Child): Promise<SinkStats> {
  return sink.ask<SinkStats>({ cmd: 'stats' });
}

export function resetSink(sink: Child, record = false): Promise<boolean> {
  return sink.ask<boolean>({ cmd: 'reset', record });
}

/** The mapping that subscribes the sink to the pushed type; `concurrency` matches the baseline's. */
export async function mapToSink(hub: HubProcess, sink: Child, concurrency: number): Promise<void> {
  await hubCall(hub, 'POST', 'mappings', {
    name: 'bench.sink',
    url: `${sink.url}/deliver`,
    token: 'bench-token',
    messages: ['product:new'],
    options: { concurrency },
  });
}

/** Pushes the seed sample `count` times at `hub` with autocannon, `connections` at once. */
function pushSamples(hub: HubProcess, count: number, connections: number, timeoutMs: number) {
  return fire({
    url: `${hub.url}${hub.pushPath}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-augury-token': hub.token },
    body: PUSH_BODY,
    connections,
    requests: count,
    timeoutMs,
  });
}

/** Waits until the sink has received `expected` deliveries (since its last reset). */
export function sinkReceives(sink: Child, expected: number, timeoutMs: number): Promise<SinkStats> {
  return waitFor(
    `sink receives ${expected} deliveries`,
    async () => {
      const s = await sinkStats(sink);
      return s.count >= expected ? s : undefined;
    },
    timeoutMs,
    10,
  );
}

/** Waits until the hub's incoming and accepted queues are empty. */
function queuesEmpty(hub: HubProcess, timeoutMs: number) {
  return waitFor(
    'incoming and accepted queues empty',
    async () => {
      const c = await queueCounts(hub);
      return c.incoming + c.pending + c.running + c.failing === 0 ? c : undefined;
    },
    timeoutMs,
    50,
  );
}

export interface DrainFigure {
  /** Deliveries per second, first push → last delivery received by the sink. */
  rate: number;
  messages: number;
  seconds: number;
  /** How long the pushes themselves took (they overlap the deliveries). */
  pushSeconds: number;
  delivered: number;
  pushNon2xx: number;
  serverCores: number;
  /** CPU used meanwhile by processes other than the hub, the sink and the harness, in cores. */
  otherCores: number;
  eld?: Eld;
}

/**
 * Drain through the whole pipeline: with a mapping to the sink in place, push `count` messages as
 * fast as autocannon can (`connections` at once), and time from the first push to the moment the
 * sink has received every accepted message and the hub's incoming and accepted queues are empty.
 */
export async function hubDrain(
  hub: HubProcess,
  sink: Child,
  count: number,
  connections: number,
  timeoutMs: number,
): Promise<DrainFigure> {
  await resetSink(sink);
  await resetEld(hub.child).catch(() => false);
  const cpu0 = cpuSecondsOf(hub.child.pid);
  const others = foreignLoad([hub.child.pid, sink.pid]);
  const started = nowUs();
  const pushed = await pushSamples(hub, count, connections, timeoutMs);
  const pushSeconds = (nowUs() - started) / 1e6;
  const expected = pushed.ok2xx;
  const stats = await sinkReceives(sink, expected, timeoutMs);
  await queuesEmpty(hub, timeoutMs);
  const cpu1 = cpuSecondsOf(hub.child.pid);
  const otherCores = others();
  const eld = await readEld(hub.child).catch(() => undefined);
  const seconds = (stats.lastUs - started) / 1e6;
  return {
    rate: Math.round(expected / seconds),
    messages: expected,
    seconds: round(seconds, 2),
    pushSeconds: round(pushSeconds, 2),
    delivered: (await sinkStats(sink)).count,
    pushNon2xx: pushed.non2xx + pushed.errors,
    serverCores: round((cpu1 - cpu0) / seconds, 2),
    otherCores,
    ...(eld ? { eld } : {}),
  };
}

export interface BacklogFigure {
  /** Deliveries per second, the sink's first receipt → its last. */
  rate: number;
  messages: number;
  seconds: number;
  delivered: number;
  pushNon2xx: number;
  /** Hub CPU from its start to the last delivery, in cores (start-up included). */
  serverCores: number;
  otherCores: number;
  eld?: Eld;
}

/**
 * Drain of a backlog, the figure compared with raw undici POSTs: the baseline only sends, so the
 * hub's figure should not include receiving the pushes either (ingest is measured on its own).
 * The hub is restarted with `--role api` (no workers: pushes stay in the incoming queue), `count`
 * messages are pushed, and it is restarted with every worker on the same database: intake, routing,
 * delivery and settlement of the whole backlog are then timed from the sink's first receipt to its
 * last. Returns the figure and the hub, which keeps running (a new process) for later phases.
 */
export async function backlogDrain(
  hub: HubProcess,
  sink: Child,
  count: number,
  connections: number,
  timeoutMs: number,
): Promise<{ figure: BacklogFigure; hub: HubProcess; window: { fromUs: number; toUs: number } }> {
  const credentials = { storeId: hub.storeId, token: hub.token };
  let peak = Math.max(hub.earlierPeakMB, memoryOf(hub.child.pid)?.peakMB ?? 0);
  await stop(hub.child);
  const api = await startHub({
    ...hub.options,
    name: `${hub.options.name}-api`,
    credentials,
    extraArgs: [...(hub.options.extraArgs ?? []), '--role', 'api'],
  });
  const pushed = await pushSamples(api, count, connections, timeoutMs);
  peak = Math.max(peak, memoryOf(api.child.pid)?.peakMB ?? 0);
  await stop(api.child);
  await resetSink(sink);
  const startedUs = nowUs();
  const worker = await startHub({ ...hub.options, credentials });
  // the event-loop figures cover the drain, not the start-up (module loading, schema compilation)
  // that precedes it: the process is listening, and its workers have just begun
  await resetEld(worker.child).catch(() => false);
  const others = foreignLoad([sink.pid, worker.child.pid]);
  worker.earlierPeakMB = peak;
  const expected = pushed.ok2xx;
  const stats = await sinkReceives(sink, expected, timeoutMs);
  const cpu = cpuSecondsOf(worker.child.pid);
  const otherCores = others();
  await queuesEmpty(worker, timeoutMs);
  const eld = await readEld(worker.child).catch(() => undefined);
  const seconds = (stats.lastUs - stats.firstUs) / 1e6;
  const wall = (stats.lastUs - startedUs) / 1e6;
  return {
    hub: worker,
    window: { fromUs: stats.firstUs, toUs: stats.lastUs },
    figure: {
      rate: Math.round((expected - 1) / seconds),
      messages: expected,
      seconds: round(seconds, 2),
      delivered: (await sinkStats(sink)).count,
      pushNon2xx: pushed.non2xx + pushed.errors,
      serverCores: round(cpu / wall, 2),
      otherCores,
      ...(eld ? { eld } : {}),
    },
  };
}

export interface UndiciFigure {
  rate: number;
  messages: number;
  seconds: number;
  failed: number;
  p50: number;
  p99: number;
  serverCores: number;
  otherCores: number;
}

/** A service request of the same shape and size as the hub's (docs/delivery.md). */
export function serviceRequestBody(): { body: string; headers: Record<string, string> } {
  const push = JSON.parse(PUSH_BODY) as { message: string; payload: Record<string, unknown> };
  const id = '01a21f34-8a6e-7c2b-9d3e-0123456789ab';
  const body = JSON.stringify({
    message: push.message,
    message_id: id,
    parent_id: id,
    store_id: id,
    payload: { ...push.payload, parameters: [] },
  });
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, */*',
    'user-agent': 'switchyard/bench',
    'x-augury-token': 'bench-token',
    'x-hub-token': 'bench-token',
    'x-hub-store': id,
  };
  return { body, headers };
}

/** The drain baseline: raw undici POSTs from `client` (a process pinned like the hub) to the sink. */
export async function undiciDrain(
  client: Child,
  sink: Child,
  count: number,
  concurrency: number,
  timeoutMs: number,
): Promise<UndiciFigure> {
  const { body, headers } = serviceRequestBody();
  const run = (n: number) =>
    client.ask<{ seconds: number; ok: number; failed: number; p50: number; p99: number; error?: string }>(
      { cmd: 'run', url: `${sink.url}/deliver`, count: n, concurrency, body, headers },
      timeoutMs,
    );
  await run(Math.min(2000, count)); // warm-up
  await resetSink(sink);
  const cpu0 = cpuSecondsOf(client.pid);
  const others = foreignLoad([client.pid, sink.pid]);
  const r = await run(count);
  const cpu1 = cpuSecondsOf(client.pid);
  const otherCores = others();
  if (r.error) throw new Error(`undici client: ${r.error}`);
  const stats = await sinkStats(sink);
  if (stats.count !== r.ok) throw new Error(`sink counted ${stats.count}, client saw ${r.ok} answers`);
  return {
    rate: Math.round(r.ok / r.seconds),
    messages: r.ok,
    seconds: round(r.seconds, 2),
    failed: r.failed,
    p50: r.p50,
    p99: r.p99,
    serverCores: round((cpu1 - cpu0) / r.seconds, 2),
    otherCores,
  };
}
