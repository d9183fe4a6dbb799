import { Type } from 'typebox';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { errorResponses, storeSecurity } from '../schemas.js';
import { Notification, presentNotification } from './messages.js';
import { PAGE_MAX, setPageHeaders } from './queues.js';

const Query = Type.Object({
  level: Type.Optional(Type.String({ enum: ['info', 'warn', 'error'] })),
  reference_type: Type.Optional(Type.String({ examples: ['order'] })),
  reference_token: Type.Optional(Type.String({ description: 'Compared without case, e.g. an order number' })),
  message_id: Type.Optional(Type.String({ description: 'The accepted message the notification came with' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_MAX, default: 1 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
});

/** Notifications endpoints returned with their replies (docs/design.md#notifications), newest first. */
export function notificationRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    app.get(
      '/api/stores/:store_id/notifications',
      {
        schema: {
          summary: 'Notifications, newest first (25 a page; pagination in headers)',
          tags: ['notifications'],
          security: storeSecurity,
          params: Type.Object({ store_id: Type.String() }),
          querystring: Query,
          response: { 200: Type.Array(Notification), ...errorResponses },
        },
      },
      async (req, reply) => {
        const storeId = storeOf(req).id;
        const q = req.query as {
          level?: string;
          reference_type?: string;
          reference_token?: string;
          message_id?: string;
          page?: number;
          per_page?: number;
        };
        const page = { page: q.page ?? 1, per_page: q.per_page ?? 25 };
        const { items, total } = await ctx.storage.listNotifications(storeId, q, page);
        setPageHeaders(reply, `/api/stores/${storeId}/notifications`, { ...q, ...page }, total);
        return items.map(presentNotification);
      },
    );
  };
}
