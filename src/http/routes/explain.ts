import { Type } from 'typebox';
import { invalid } from '../../errors.js';
import { parseEnvelope } from '../../pipeline/envelope.js';
import { EXPLAIN_SEEN_LIMIT, explainMessage } from '../../pipeline/explain.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { errorResponses, JsonObject, storeSecurity } from '../schemas.js';

const ExplainBody = Type.Object(
  {
    message: Type.String({ examples: ['shipment:ready'] }),
    payload: JsonObject,
    message_id: Type.Optional(Type.String({ description: 'Used as the root message_id for filters' })),
  },
  { additionalProperties: true, 'x-manual-validation': true },
);

const Decision = Type.Object({
  mapping_id: Type.String(),
  name: Type.String(),
  takes: Type.Boolean(),
  reason: Type.Union([Type.String({ enum: ['type', 'disabled', 'filter', 'duplicate'] }), Type.Null()]),
  filter: Type.Optional(
    Type.Object(
      {
        index: Type.Integer(),
        path: Type.String(),
        operator: Type.String(),
        value: Type.Unknown(),
        match_rule: Type.String(),
        seen: Type.Array(Type.Unknown(), {
          description: `The first ${EXPLAIN_SEEN_LIMIT} values the path yielded`,
        }),
        seen_count: Type.Integer({ description: 'How many values the path yielded in all' }),
      },
      { description: 'The first filter that failed' },
    ),
  ),
  identifier_key: Type.Optional(
    Type.String({ description: 'The identifier key the message has for this mapping' }),
  ),
  ordering_key: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/**
 * `POST /api/stores/{id}/route/explain`: for a message, every mapping's decision and why
 * (docs/routing.md#explain).
 * The body is checked as an envelope only (type and payload shape), not against the message
 * library: the question is how routing would treat it, and a schema failure has its own answer at
 * push. Nothing is stored.
 */
export function explainRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.post(
      '/api/stores/:store_id/route/explain',
      {
        preHandler: requireStore(ctx),
        schema: {
          summary: 'Explain how a message would be routed',
          description:
            'For every mapping of the store: whether it would take the message, and if not why ' +
            '(type, disabled, the failing filter with the values it saw, or a duplicate identifier key).',
          tags: ['mappings'],
          security: storeSecurity,
          params: Type.Object({ store_id: Type.String() }),
          body: ExplainBody,
          response: {
            200: Type.Object({ message: Type.String(), decisions: Type.Array(Decision) }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const parsed = parseEnvelope(req.body);
        if ('errors' in parsed) throw invalid(parsed.errors);
        const rawId = (req.body as Record<string, unknown>).message_id;
        const envelope = { ...parsed.envelope, message_id: typeof rawId === 'string' ? rawId : null };
        const decisions = await explainMessage(ctx.storage, storeOf(req).id, envelope, Date.now());
        return { message: envelope.message, decisions };
      },
    );
  };
}
