import pino from 'pino';
import { newId } from '../../src/ids.js';
import { DeliveryEngine } from '../../src/pipeline/delivery/engine.js';
import type { Storage } from '../../src/storage/contract.js';

/**
 * A delivery engine driven by hand: no worker loop wakes it, the test calls `step()` itself (on an
 * `api`-role test hub, whose own workers are off).
 */
export function manualEngine(storage: Storage): DeliveryEngine {
  return new DeliveryEngine(storage, pino({ level: 'silent' }), { capacity: () => {}, incoming: () => {} });
}

/** One intake step by hand: every queued message gets a copy for each of `mappings`. */
export function intakeTo(storage: Storage, mappings: { id: string; name: string }[], limit = 100) {
  return storage.intake(
    limit,
    (batch) =>
      batch.map((m) => ({
        id: m.id,
        copies: mappings.map((mapping) => ({
          id: newId(),
          mapping_id: mapping.id,
          consumer: mapping.name,
          ordering_key: null,
        })),
      })),
    Date.now(),
  );
}

/**
 * The real storage with one method wrapped (to count its calls, or to slow it down the way a
 * large table would); every other member is the storage's own.
 */
export function wrapStorage<K extends keyof Storage>(
  storage: Storage,
  method: K,
  wrap: (original: Storage[K]) => Storage[K],
): Storage {
  const wrapped = wrap((storage[method] as (...a: unknown[]) => unknown).bind(storage) as Storage[K]);
  return new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop === method) return wrapped;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
