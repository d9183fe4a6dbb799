import type { MessageRecord, QueueEntry } from '../storage/contract.js';

export function iso(ms: number | null): string | null {
  if (ms === null) return null;
  const date = new Date(ms);
  // a time no date can hold (stored before delays were capped) shows as none, not as a 500
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The queue item: the row as the original hub listed it. */
export function queueItem(m: QueueEntry) {
  return {
    id: m.id,
    message: m.message,
    state: m.state,
    queue_name: m.queue_name,
    source: m.source,
    origin: m.origin,
    parent_id: m.parent_id,
    mapping_id: m.mapping_id,
    consumer: m.consumer,
    attempts: m.attempts,
    created_at: iso(m.created_at)!,
    attempt_at: iso(m.attempt_at),
    completed_at: iso(m.completed_at),
    locked_at: iso(m.locked_at),
  };
}

/** Parses stored JSON text; a value that is not JSON (a raw endpoint reply) is returned as the string. */
export function parseStored(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const RETRYABLE = new Set(['pending', 'failing', 'parked', 'scheduled']);

export function canAttempt(m: MessageRecord): boolean {
  return m.queue_name === 'accepted' && RETRYABLE.has(m.state);
}
