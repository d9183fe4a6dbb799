import { Type } from 'typebox';
import type { App, AppContext } from '../app.js';
import { HubError } from '../errors.js';
import { requireStore, storeOf } from '../guards.js';
import { canAttempt, iso, parseStored, queueItem } from '../present.js';
import { errorResponses, QueueItem, storeSecurity, Timestamp } from '../schemas.js';

const MessageDetail = Type.Object(
  {
    ...QueueItem.properties,
    payload: Type.Unknown(),
    extra: Type.Unknown({ description: 'Other top-level fields the sender included' }),
    children: Type.Array(
      Type.Object({
        id: Type.String(),
        message: Type.String(),
        state: Type.String(),
        queue_name: Type.String(),
      }),
    ),
    notifications: Type.Array(Type.Unknown()),
    attempts_log: Type.Array(Type.Unknown()),
    last_error: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    result: Type.Unknown(),
    next_attempt_at: Timestamp,
    can_attempt: Type.Boolean(),
  },
  { description: 'A message with its payload, children and delivery history' },
);

export function messageRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));

    app.get(
      '/api/stores/:store_id/messages/:message_id',
      {
        schema: {
          summary: 'One message with payload, children, notifications and attempts',
          tags: ['messages'],
          security: storeSecurity,
          params: Type.Object({ store_id: Type.String(), message_id: Type.String() }),
          response: { 200: MessageDetail, ...errorResponses },
        },
      },
      async (req) => {
        const storeId = storeOf(req).id;
        const m = await ctx.storage.getMessage(storeId, req.params.message_id);
        if (!m) throw new HubError('MESSAGE_NOT_FOUND');
        const children = await ctx.storage.children(storeId, m.id);
        const waiting = m.queue_name === 'accepted' && m.state !== 'parked' && m.state !== 'running';
        return {
          ...queueItem(m),
          payload: JSON.parse(m.payload),
          extra: parseStored(m.extra),
          children,
          notifications: [],
          attempts_log: [],
          last_error: m.last_error,
          reason: m.reason,
          result: parseStored(m.result),
          next_attempt_at: waiting ? iso(m.attempt_at) : null,
          can_attempt: canAttempt(m),
        };
      },
    );
  };
}
