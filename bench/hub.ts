import { request } from 'undici';
import { HUB_NODE_FLAGS } from '../src/cli/node-flags.js';
import { type Child, DIST, sleep, startNode } from './processes.js';

export interface HubProcess {
  child: Child;
  url: string;
  storeId: string;
  token: string;
  /** `POST` path of the push API for the default store. */
  pushPath: string;
  /** How it was started, for a restart on the same database (drain.ts). */
  options: HubStart;
  /** Highest VmHWM (MB) of earlier processes of this hub, before restarts. */
  earlierPeakMB: number;
}

export interface HubStart {
  name: string;
  dataDir: string;
  /** A postgres:// URL; without it the hub uses `<dataDir>/switchyard.db`. */
  databaseUrl?: string;
  cpu?: number;
  nodeFlags?: string[];
  /** The default store's credentials when the database already has it (a restart). */
  credentials?: { storeId: string; token: string };
  /** Another checkout's build to run instead of this one's (bench/probes/ab.ts). */
  root?: string;
  /** More `switchyard serve` options. */
  extraArgs?: string[];
}

/**
 * Starts `switchyard serve` from the build (`dist/src/cli/main.js`) on 127.0.0.1 and a free port,
 * with the Node.js flags it ships with (src/cli/node-flags.ts; `nodeFlags` come after them, so a
 * run may override one), the default durable settings and warn-level logging, and reads the
 * default store's id and token from its first-start banner (test/helpers/process.ts does the same).
 */
export async function startHub(options: HubStart): Promise<HubProcess> {
  const args = [
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--log-level',
    'warn',
    '--data',
    options.dataDir,
  ];
  if (options.databaseUrl) args.push('--database', options.databaseUrl);
  args.push(...(options.extraArgs ?? []));
  const dist = options.root ? `${options.root.replace(/\/$/, '')}/dist/` : DIST;
  const child = await startNode(options.name, `${dist}src/cli/main.js`, args, {
    cpu: options.cpu,
    nodeFlags: [...HUB_NODE_FLAGS, ...(options.nodeFlags ?? [])],
    probe: true,
  });
  let credentials = options.credentials;
  if (!credentials) {
    const out = child.output();
    const storeId = /store id: (\S+)/.exec(out)?.[1];
    const token = /token: +(sy_\S+)/.exec(out)?.[1];
    if (!storeId || !token) throw new Error(`${options.name}: no default store in the banner:\n${out}`);
    credentials = { storeId, token };
  }
  return {
    child,
    url: child.url,
    ...credentials,
    pushPath: `/api/stores/${credentials.storeId}/messages`,
    options,
    earlierPeakMB: 0,
  };
}

export async function hubCall<T>(
  hub: HubProcess,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await request(`${hub.url}/api/stores/${hub.storeId}/${path}`, {
    method,
    headers: {
      'x-augury-token': hub.token,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

export interface QueueCounts {
  incoming: number;
  pending: number;
  running: number;
  failing: number;
  scheduled: number;
  parked: number;
  archived: number;
}

export function queueCounts(hub: HubProcess): Promise<QueueCounts> {
  return hubCall<QueueCounts>(hub, 'GET', 'queues');
}

export function totalStored(c: QueueCounts): number {
  return c.incoming + c.pending + c.running + c.failing + c.scheduled + c.parked + c.archived;
}

/** Polls `check` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s: ${what}`);
    await sleep(everyMs);
  }
}

export interface Eld {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Garbage-collection pauses over the same span (count, total, longest; major = mark-compact). */
  gc?: { count: number; totalMs: number; maxMs: number; major: number; majorMaxMs: number };
}

/** Event-loop delay of a probed process since the last reset (ms); see eld-probe.ts. */
export function readEld(child: Child): Promise<Eld> {
  return child.ask<Eld>({ cmd: 'eld-read' });
}

export function resetEld(child: Child): Promise<boolean> {
  return child.ask<boolean>({ cmd: 'eld-reset' });
}
