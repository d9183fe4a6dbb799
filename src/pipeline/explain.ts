import type { MappingStorage } from '../storage/mapping-contract.js';
import type { Envelope } from './envelope.js';
import { compileStore, messageRoot, orderingKeyOf } from './router.js';
import { applyFilters } from './routing/filters.js';
import { typeMatches } from './routing/message-types.js';

export type ExplainReason = 'type' | 'disabled' | 'filter' | 'duplicate';

export interface ExplainDecision {
  mapping_id: string;
  name: string;
  takes: boolean;
  reason: ExplainReason | null;
  filter?: {
    index: number;
    path: string;
    operator: string;
    value: unknown;
    match_rule: string;
    /** The values the filter's path yielded, the first 20. */
    seen: unknown[];
    seen_count: number;
  };
  identifier_key?: string;
  ordering_key?: string | null;
}

export const EXPLAIN_SEEN_LIMIT = 20;

/**
 * `POST …/route/explain` (docs/routing.md#explain): what intake would decide for this message, mapping by
 * mapping, using the same compiled matchers and rules as the router. Checks are in the router's order and the
 * first failing one is the reason: type, then disabled, then the filters (the first failing one, with the
 * values it saw), then the identifier key (a read-only look at the keys the mapping holds; expired keys do
 * not count). Nothing is stored and no key is taken.
 *
 * The mappings are read from storage on every call rather than from the router's cache: explain is
 * a debugging tool, and it must reflect a change made a moment ago by any process.
 */
export async function explainMessage(
  storage: MappingStorage,
  storeId: string,
  envelope: Envelope & { message_id: string | null },
  now: number,
): Promise<ExplainDecision[]> {
  const store = compileStore(await storage.listMappings(storeId), 0);
  const root = messageRoot(
    { message: envelope.message, id: envelope.message_id, extra: envelope.extra },
    envelope.payload,
  );
  const decisions: ExplainDecision[] = [];
  for (const c of store.all) {
    const m = c.mapping;
    const decision: ExplainDecision = { mapping_id: m.id, name: m.name, takes: false, reason: null };
    decisions.push(decision);
    if (!m.messages.some((pattern) => typeMatches(pattern, envelope.message))) {
      decision.reason = 'type';
      continue;
    }
    if (!m.enabled) {
      decision.reason = 'disabled';
      continue;
    }
    const verdict = applyFilters(c.filters, root);
    if (!verdict.pass) {
      decision.reason = 'filter';
      decision.filter = {
        index: verdict.index,
        path: verdict.spec.path,
        operator: verdict.spec.operator,
        value: verdict.spec.value ?? null,
        match_rule: verdict.spec.match_rule ?? 'all',
        seen: verdict.seen.slice(0, EXPLAIN_SEEN_LIMIT),
        seen_count: verdict.seen.length,
      };
      continue;
    }
    decision.ordering_key = orderingKeyOf(c, root);
    const key = c.identifiers?.key(root) ?? null;
    if (key !== null) {
      decision.identifier_key = key;
      if (await storage.identifierKeyHeld(m.id, key, now)) {
        decision.reason = 'duplicate';
        continue;
      }
    }
    decision.takes = true;
  }
  return decisions;
}
