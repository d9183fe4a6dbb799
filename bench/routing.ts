import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newStore } from '../src/http/routes/stores.js';
import { newId } from '../src/ids.js';
import { Intake } from '../src/pipeline/intake.js';
import { parseMapping } from '../src/pipeline/mapping-validation.js';
import { MessageValidator } from '../src/pipeline/message-validation.js';
import { MappingRouter } from '../src/pipeline/router.js';
import type { Storage } from '../src/storage/contract.js';
import { newMapping } from '../src/storage/mapping-contract.js';
import { openSqlite } from '../src/storage/sqlite/open.js';

export interface RoutingFigure {
  mappings: number;
  messagesPerSecond: number;
}

export interface RoutingBenchOptions {
  sizes?: readonly number[];
  messages?: number;
  /** Timed runs per size; the best is reported (the first run of a process also warms the JIT). */
  runs?: number;
}

const PUSH_BATCH = 1000;

/**
 * Intake throughput with 1, 100 and 1,000 mappings in one store (routing at intake, docs/routing.md;
 * issue 3). One mapping takes the pushed type (`order:new`, with a filter and an identifier, so the
 * whole routing path runs); the others are for other types, half exact and half wildcard patterns
 * over three segments, each with a filter of its own. The claim under test is that the mappings which cannot match cost
 * nothing per message: the 1,000 figure should be within 20 % of the 1 figure.
 *
 * Each run gets a fresh SQLite file (synchronous=NORMAL, so the figure is routing and SQL, not the
 * disk's fsync latency), a store and its mappings, then `messages` incoming messages pushed through
 * storage in batches; the timer covers only `Intake.step()` until the incoming queue is empty.
 */
export async function benchRouting(options: RoutingBenchOptions = {}): Promise<RoutingFigure[]> {
  const sizes = options.sizes ?? [1, 100, 1000];
  const messages = options.messages ?? 20_000;
  const runs = options.runs ?? 2;
  const figures: RoutingFigure[] = [];
  for (const size of sizes) {
    let best = 0;
    for (let run = 0; run < runs; run++) best = Math.max(best, await oneRun(size, messages));
    figures.push({ mappings: size, messagesPerSecond: Math.round(best) });
  }
  return figures;
}

async function oneRun(mappingCount: number, messageCount: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-routing-'));
  const storage = openSqlite(join(dir, 'bench.db'), 'normal');
  try {
    await storage.migrate();
    const { store, token } = newStore('Bench Store');
    await storage.createStore(store, token);
    await createMappings(storage, store.id, mappingCount);
    await pushIncoming(storage, store.id, messageCount);

    const intake = new Intake(storage, new MappingRouter(storage), new MessageValidator(storage), () => {});
    const started = process.hrtime.bigint();
    let routed = 0;
    for (let n = await intake.step(); n > 0; n = await intake.step()) routed += n;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (routed !== messageCount) throw new Error(`routed ${routed} of ${messageCount} messages`);
    const counts = await storage.queueCounts(store.id);
    if (counts.pending !== messageCount)
      throw new Error(`expected ${messageCount} accepted, got ${counts.pending}`);
    return routed / seconds;
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function createMappings(storage: Storage, storeId: string, count: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const taker = i === count - 1;
    const body = taker
      ? {
          messages: ['order:new'],
          filters: [{ path: 'payload.order.status', operator: 'eq', value: 'complete' }],
          identifiers: { order: 'payload.order.number' },
        }
      : {
          // Exact types and wildcard patterns that never match `order:new` (three segments).
          messages: [i % 2 === 0 ? `bench${i}:event` : `bench${i}:*:done`],
          filters: [{ path: 'payload.order.status', operator: 'neq', value: 'void' }],
        };
    const parsed = parseMapping({
      name: `bench.service_${i}`,
      url: 'http://127.0.0.1:9/x',
      token: 't',
      ...body,
    });
    if (!parsed.ok) throw new Error(`bench mapping invalid: ${JSON.stringify(parsed.errors)}`);
    await storage.createMapping(newMapping(parsed.fields, storeId, now));
  }
}

async function pushIncoming(storage: Storage, storeId: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += PUSH_BATCH) {
    const batch = Math.min(PUSH_BATCH, count - done);
    const now = Date.now();
    await Promise.all(
      Array.from({ length: batch }, (_, i) =>
        storage.push({
          message: {
            id: newId(),
            store_id: storeId,
            message: 'order:new',
            payload: JSON.stringify({ order: { number: `R${done + i}`, status: 'complete', total: 10 } }),
            extra: null,
            origin: 'push',
            parent_id: null,
            depth: 0,
            created_at: now,
          },
        }),
      ),
    );
  }
}
