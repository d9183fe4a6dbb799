import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { FieldErrorList, HubError } from '../../errors.js';
import {
  ACCEPTED_STATES,
  ARCHIVED_STATES,
  type QueueFilter,
  type QueueName,
} from '../../storage/contract.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { queueItem } from '../present.js';
import { errorResponses, QueueItem, StoreParams, storeSecurity } from '../schemas.js';

const QUEUES: readonly QueueName[] = ['incoming', 'accepted', 'archived'];
const STATES = [...new Set<string>([...ACCEPTED_STATES, ...ARCHIVED_STATES])];
const PER_PAGE_DEFAULT = 25;
const PER_PAGE_MAX = 100;

/**
 * The highest page a listing serves: past it the row offset no longer fits the databases' 64-bit
 * integers (a `page=1e20` was a 500). A million pages of 100 is a hundred million messages.
 */
export const PAGE_MAX = 1_000_000;

/** The listing filters, shared by the queue listing and the bulk actions. */
export const QueueFilterFields = {
  message: Type.Optional(Type.String({ description: 'Message type, e.g. order:new' })),
  state: Type.Optional(Type.String({ enum: STATES })),
  start_date: Type.Optional(Type.String({ description: 'ISO 8601; created at or after' })),
  end_date: Type.Optional(Type.String({ description: 'ISO 8601; created at or before' })),
  message_id: Type.Optional(Type.String()),
  parent_id: Type.Optional(Type.String()),
  mapping_id: Type.Optional(Type.String()),
  source: Type.Optional(
    Type.String({ enum: ['incoming', 'accepted'], description: 'Archived only: the queue it left' }),
  ),
};

export const QueueQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_MAX, default: 1 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: PER_PAGE_MAX, default: PER_PAGE_DEFAULT })),
  ...QueueFilterFields,
});

type Query = {
  [K in keyof QueueFilter]?: string;
} & { page?: number; per_page?: number };

/** `2026-11-28`, `2026-11-28T17:38`, `2026-11-28T17:38:10.5Z`, `2026-11-28 17:38:10+01:00`. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Turns the listing's query string into a storage filter (shared by the bulk actions). */
export function toFilter(query: Query): QueueFilter {
  const errors = new FieldErrorList();
  const date = (name: 'start_date' | 'end_date') => {
    const value = query[name];
    if (value === undefined) return undefined;
    // Date.parse alone also takes "1", "0" or "March 7" (as dates in 2000–2001): a bulk action
    // with such a filter would act on the wrong messages
    const ms = ISO_8601.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) errors.add(`/query/${name}`, 'must be an ISO 8601 date or date-time');
    return ms;
  };
  const filter: QueueFilter = {
    message: query.message,
    state: query.state as QueueFilter['state'],
    start_date: date('start_date'),
    end_date: date('end_date'),
    message_id: query.message_id,
    parent_id: query.parent_id,
    mapping_id: query.mapping_id,
    source: query.source as QueueFilter['source'],
  };
  errors.throwIfAny();
  return filter;
}

export function setPageHeaders(
  reply: FastifyReply,
  path: string,
  query: Record<string, unknown>,
  total: number,
) {
  const page = Number(query.page ?? 1);
  const perPage = Number(query.per_page ?? PER_PAGE_DEFAULT);
  const last = Math.max(1, Math.ceil(total / perPage));
  const link = (p: number, rel: string) => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && k !== 'page') qs.set(k, String(v));
    qs.set('page', String(p));
    return `<${path}?${qs}>; rel="${rel}"`;
  };
  const links = [link(1, 'first'), link(last, 'last')];
  if (page > 1) links.push(link(Math.min(page - 1, last), 'prev'));
  if (page < last) links.push(link(page + 1, 'next'));
  reply.header('x-total-count', String(total));
  reply.header('x-page', String(page));
  reply.header('x-per-page', String(perPage));
  reply.header('link', links.join(', '));
}

export function queueRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    const tags = ['queues'];

    app.get(
      '/api/stores/:store_id/queues',
      {
        schema: {
          summary: 'Message counts per queue and state',
          description:
            'The incoming and accepted figures are counted on every call. An archive of 100,000 messages ' +
            'or more is counted again once the last count is twenty times older than it took (at most ' +
            '10 s): until then `archived` is that count, and a message archived since is in no figure ' +
            '(docs/storage.md).',
          tags,
          security: storeSecurity,
          params: StoreParams,
          response: {
            200: Type.Object({
              incoming: Type.Integer(),
              pending: Type.Integer(),
              running: Type.Integer(),
              failing: Type.Integer(),
              scheduled: Type.Integer(),
              parked: Type.Integer(),
              archived: Type.Integer(),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => ctx.storage.queueCounts(storeOf(req).id),
    );

    app.get(
      '/api/stores/:store_id/queues/:queue',
      {
        schema: {
          summary: 'List a queue, newest first (25 a page; pagination in headers)',
          description:
            'The archived queue lists only `completed` messages unless `state` or `source` is given, as the original hub did.',
          tags,
          security: storeSecurity,
          params: Type.Object({
            store_id: Type.String(),
            queue: Type.String({ description: 'incoming, accepted or archived' }),
          }),
          querystring: QueueQuery,
          response: { 200: Type.Array(QueueItem), ...errorResponses },
        },
      },
      async (req, reply) => {
        const queue = req.params.queue as QueueName;
        if (!QUEUES.includes(queue)) throw new HubError('QUEUE_NOT_FOUND');
        const query = req.query as Query;
        const page = { page: query.page ?? 1, per_page: query.per_page ?? PER_PAGE_DEFAULT };
        const { items, total, capped } = await ctx.storage.listQueue(
          storeOf(req).id,
          queue,
          toFilter(query),
          page,
        );
        setPageHeaders(reply, `/api/stores/${storeOf(req).id}/queues/${queue}`, { ...query, ...page }, total);
        // beyond the cap the count is a lower bound; say so rather than scan the whole archive
        if (capped) reply.header('x-total-count-capped', 'true');
        return items.map(queueItem);
      },
    );

    app.get(
      '/api/stores/:store_id/available_messages',
      {
        schema: {
          summary: 'Message types this store has seen',
          tags: ['messages'],
          security: storeSecurity,
          params: StoreParams,
          response: { 200: Type.Array(Type.String()), ...errorResponses },
        },
      },
      async (req) => ctx.storage.availableMessages(storeOf(req).id),
    );
  };
}
