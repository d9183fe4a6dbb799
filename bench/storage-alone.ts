import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newStore } from '../src/http/routes/stores.js';
import { newId } from '../src/ids.js';
import { settle } from '../src/pipeline/delivery/outcome.js';
import { Intake } from '../src/pipeline/intake.js';
import { parseMapping } from '../src/pipeline/mapping-validation.js';
import { MessageValidator } from '../src/pipeline/message-validation.js';
import { MappingRouter } from '../src/pipeline/router.js';
import type { PushRequest } from '../src/storage/contract.js';
import { type Mapping, newMapping } from '../src/storage/mapping-contract.js';
import type { SqlStorage } from '../src/storage/sql-storage.js';
import { openSqlite } from '../src/storage/sqlite/open.js';
import { PUSH_BODY } from './load.js';

/**
 * The hub's storage path with the HTTP taken out: how many pushes and how many deliveries the
 * storage layer alone handles per second of CPU on this machine, through the hub's own code
 * (Storage, Intake, the router, the settlement rules) on a SQLite file with the hub's durability
 * (`full`: every commit fdatasync'ed before the call resolves). CPU seconds of the whole process,
 * not wall time: the stages run one after another here and would sit idle while each waits for
 * its disk sync, where the hub overlaps them on its one core.
 *
 * Why: the hub's figures are its HTTP work plus its storage work, on one core. The push API with
 * the storage call taken out answers as fast as bare Fastify (measured 2026-11-28), so a push costs
 * about 1/F + 1/S (F: the Fastify baseline's req/s, S: storage alone's pushes/s), and the best
 * ratio to Fastify the hub can reach is S / (F + S) — likewise for deliveries against raw undici
 * (the hub's HTTP client costs no more than the baseline's per POST). These ceilings say, for the
 * machine the run is on, whether a ratio target is within reach of the storage layer at all.
 *
 * Ingest: `concurrency` pushes in flight (as the bench's 100 connections), a sample body of the
 * seed page, no mapping: each push is routed at once and written archived `skipped`, as in the
 * ingest runs. Drain: `messages` pushes queued in the incoming queue first (not timed), then intake
 * steps, leases of 100 and settlements as `completed` (a 200 `{}` reply) in turn until every copy
 * is archived: every statement of the backlog drain, without the POST.
 */
export interface StorageAloneFigures {
  /** Per CPU-second of the process. */
  pushesPerSecond: number;
  /** Per CPU-second of the process. */
  deliveriesPerSecond: number;
}

export interface StorageAloneOptions {
  pushes: number;
  concurrency: number;
  messages: number;
}

const SAMPLE = JSON.parse(PUSH_BODY) as { message: string; payload: Record<string, unknown> };
/** The payload as the push route hands it to storage (its serialisation is the route's work). */
const PAYLOAD = JSON.stringify(SAMPLE.payload);

export async function benchStorageAlone(options: StorageAloneOptions): Promise<StorageAloneFigures> {
  return {
    pushesPerSecond: Math.round(await withStorage((s, store) => ingest(s, store, options))),
    deliveriesPerSecond: Math.round(await withStorage((s, store) => drain(s, store, options.messages))),
  };
}

async function withStorage(run: (storage: SqlStorage, storeId: string) => Promise<number>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-storage-'));
  const storage = openSqlite(join(dir, 'bench.db'), 'full');
  try {
    await storage.migrate();
    const { store, token } = newStore('Bench Store');
    await storage.createStore(store, token);
    return await run(storage, store.id);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function pushOf(storeId: string): PushRequest {
  return {
    message: {
      id: newId(),
      store_id: storeId,
      message: SAMPLE.message,
      payload: PAYLOAD,
      extra: null,
      origin: 'push',
      parent_id: null,
      depth: 0,
      created_at: Date.now(),
    },
  };
}

async function ingest(storage: SqlStorage, storeId: string, o: StorageAloneOptions): Promise<number> {
  // routed at push time, as by a hub whose intake has no backlog: no mapping, so archived skipped
  const intake = new Intake(storage, new MappingRouter(storage), new MessageValidator(storage), () => {});
  await intake.step();
  storage.routePushes(intake.pushRouting());
  let next = 0;
  const worker = async () => {
    while (next < o.pushes) {
      next++;
      const outcome = await storage.push(pushOf(storeId));
      if (outcome.kind !== 'created' || !outcome.routed) throw new Error('a push was not routed at once');
    }
  };
  // a tenth of the pushes first, untimed: the JIT warms up as a running hub's would be
  const warm = Math.floor(o.pushes / 10);
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < warm) {
        next++;
        await storage.push(pushOf(storeId));
      }
    }),
  );
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = cpuSecondsSince(cpu);
  storage.routePushes(undefined);
  return (o.pushes - warm) / seconds;
}

async function drain(storage: SqlStorage, storeId: string, messages: number): Promise<number> {
  const mapping = await sinkMapping(storage, storeId);
  for (let done = 0; done < messages; done += 1000) {
    const batch = Math.min(1000, messages - done);
    await Promise.all(Array.from({ length: batch }, () => storage.push(pushOf(storeId))));
  }
  const intake = new Intake(storage, new MappingRouter(storage), new MessageValidator(storage), () => {});
  const reply = { url: mapping.url, status: 200, contentType: 'application/json', body: '{}' };
  let delivered = 0;
  let lease = 0;
  const cpu = process.cpuUsage();
  for (;;) {
    const routed = await intake.step();
    let leased = await storage.leaseDeliveries(`bench:${++lease}`, 100, Date.now(), 30_000, []);
    while (leased.length > 0) {
      const at = Date.now();
      const held = await Promise.all(
        leased.map((m) =>
          storage.settle(settle(m, mapping, { ...reply, startedAt: at, durationMs: 1 }, at, Math.random())),
        ),
      );
      delivered += held.filter(Boolean).length;
      leased = await storage.leaseDeliveries(`bench:${++lease}`, 100, Date.now(), 30_000, []);
    }
    if (routed === 0) break;
  }
  const seconds = cpuSecondsSince(cpu);
  if (delivered !== messages) throw new Error(`settled ${delivered} of ${messages} copies`);
  return delivered / seconds;
}

/** CPU time of the whole process (every thread: the WAL syncs, the checkpointer) since `from`. */
function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

async function sinkMapping(storage: SqlStorage, storeId: string): Promise<Mapping> {
  const parsed = parseMapping({
    name: 'bench.sink',
    url: 'http://127.0.0.1:9/deliver',
    token: 'bench-token',
    messages: [SAMPLE.message],
    options: { concurrency: 64 },
  });
  if (!parsed.ok) throw new Error(`bench mapping invalid: ${JSON.stringify(parsed.errors)}`);
  const { id } = await storage.createMapping(newMapping(parsed.fields, storeId, Date.now()));
  const mapping = await storage.getMapping(storeId, id);
  if (!mapping) throw new Error('bench mapping not stored');
  return mapping;
}
