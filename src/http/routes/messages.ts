import { Type } from 'typebox';
import { FieldErrorList, HubError, invalid } from '../../errors.js';
import { issuesToFieldErrors } from '../../pipeline/message-validation.js';
import type { MessageRecord } from '../../storage/contract.js';
import type { AttemptRecord, NotificationRecord } from '../../storage/delivery-contract.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { canAttempt, iso, parseStored, queueItem } from '../present.js';
import { errorResponses, QueueItem, storeSecurity, Timestamp } from '../schemas.js';
import { QueueFilterFields, toFilter } from './queues.js';

/** A bulk action's filters: the listing's, strictly (a misspelt filter must not widen the action). */
const BulkFilter = Type.Object(QueueFilterFields, { additionalProperties: false });

/** The filters of the query string and of the body together; one given both ways must agree. */
function bulkFilter(query: unknown, body: unknown): Record<string, string> {
  const fromQuery = (query ?? {}) as Record<string, string>;
  const fromBody = (body ?? {}) as Record<string, string>;
  const errors = new FieldErrorList();
  for (const [k, v] of Object.entries(fromBody))
    if (fromQuery[k] !== undefined && fromQuery[k] !== v)
      errors.add(`/${k}`, 'differs from the same filter in the query string');
  errors.throwIfAny();
  return { ...fromQuery, ...fromBody };
}

export const Notification = Type.Object({
  id: Type.String(),
  message_id: Type.String(),
  level: Type.String(),
  subject: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  reference_type: Type.Union([Type.String(), Type.Null()]),
  reference_id: Type.Union([Type.String(), Type.Null()]),
  reference_token: Type.Union([Type.String(), Type.Null()]),
  origin: Type.Union([Type.String(), Type.Null()]),
  occurrences: Type.Integer(),
  logged_on: Type.String({ format: 'date-time' }),
  last_update: Type.String({ format: 'date-time' }),
  attributes: Type.Unknown(),
});

const Attempt = Type.Object({
  attempted_at: Type.String({ format: 'date-time' }),
  duration_ms: Type.Integer(),
  url: Type.String(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  response_excerpt: Type.Union([Type.String(), Type.Null()]),
});

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
        mapping_id: Type.Union([Type.String(), Type.Null()]),
        consumer: Type.Union([Type.String(), Type.Null()], {
          description: 'The mapping name, as on the copy',
        }),
      }),
    ),
    notifications: Type.Array(Notification),
    attempts_log: Type.Array(Attempt),
    last_error: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    result: Type.Unknown(),
    next_attempt_at: Timestamp,
    can_attempt: Type.Boolean(),
  },
  { description: 'A message with its payload, children, notifications and delivery attempts' },
);

const Action = Type.Object(
  {
    attempt_now: Type.Optional(
      Type.Boolean({ description: 'Retry a pending, failing, parked or scheduled message now' }),
    ),
    archive: Type.Optional(Type.Boolean({ description: 'Archive by hand (state never_processed)' })),
    payload: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: 'Parked only: edit, re-validate, retry' }),
    ),
  },
  { 'x-manual-validation': true },
);

export function presentNotification(n: NotificationRecord) {
  return {
    id: n.id,
    message_id: n.message_id,
    level: n.level,
    subject: n.subject,
    description: n.description,
    reference_type: n.reference_type,
    reference_id: n.reference_id,
    reference_token: n.reference_token,
    origin: n.origin,
    occurrences: n.occurrences,
    logged_on: iso(n.logged_on)!,
    last_update: iso(n.last_update)!,
    attributes: parseStored(n.attributes),
  };
}

const presentAttempt = (a: AttemptRecord) => ({
  attempted_at: iso(a.attempted_at)!,
  duration_ms: a.duration_ms,
  url: a.url,
  status_code: a.status_code,
  error: a.error,
  response_excerpt: a.response_excerpt,
});

export function messageRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    registerGet(app, ctx);
    registerAction(app, ctx);
    for (const action of ['retry', 'archive'] as const) registerBulk(app, ctx, action);
  };
}

const tags = ['messages'];
const params = Type.Object({ store_id: Type.String(), message_id: Type.String() });

async function loadMessage(ctx: AppContext, storeId: string, id: string): Promise<MessageRecord> {
  const m = await ctx.storage.getMessage(storeId, id);
  if (!m) throw new HubError('MESSAGE_NOT_FOUND');
  return m;
}

async function detail(ctx: AppContext, storeId: string, m: MessageRecord) {
  const [children, notifications, attempts] = await Promise.all([
    ctx.storage.children(storeId, m.id),
    ctx.storage.notificationsFor(m.id),
    ctx.storage.attemptsFor(m.id),
  ]);
  const waiting = m.queue_name === 'accepted' && m.state !== 'parked' && m.state !== 'running';
  return {
    ...queueItem(m),
    payload: JSON.parse(m.payload),
    extra: parseStored(m.extra),
    children,
    notifications: notifications.map(presentNotification),
    attempts_log: attempts.map(presentAttempt),
    last_error: m.last_error,
    reason: m.reason,
    result: parseStored(m.result),
    next_attempt_at: waiting ? iso(m.attempt_at) : null,
    can_attempt: canAttempt(m),
  };
}

function registerGet(app: App, ctx: AppContext) {
  app.get(
    '/api/stores/:store_id/messages/:message_id',
    {
      schema: {
        summary: 'One message with payload, children, notifications and attempts',
        tags,
        security: storeSecurity,
        params,
        response: { 200: MessageDetail, ...errorResponses },
      },
    },
    async function getMessage(req) {
      const storeId = storeOf(req).id;
      return detail(ctx, storeId, await loadMessage(ctx, storeId, req.params.message_id));
    },
  );
}

function registerAction(app: App, ctx: AppContext) {
  app.put(
    '/api/stores/:store_id/messages/:message_id',
    {
      schema: {
        summary: 'Retry now, archive by hand, or edit a parked message and retry it',
        description:
          'Body `{"attempt_now": true}`, `{"archive": true}` or `{"payload": {...}}` (parked messages only; the new ' +
          'payload is validated like a push). The query-string forms `?attempt_now=true` and `?archive=true` work too. ' +
          'A message in a state the action does not apply to answers 422.',
        tags,
        security: storeSecurity,
        params,
        querystring: Type.Object({
          attempt_now: Type.Optional(Type.String()),
          archive: Type.Optional(Type.String()),
        }),
        body: Type.Optional(Action),
        response: { 200: MessageDetail, ...errorResponses },
      },
    },
    async function actOnMessage(req) {
      const storeId = storeOf(req).id;
      const action = parseAction(
        (req.body ?? {}) as Record<string, unknown>,
        req.query as Record<string, string | undefined>,
      );
      const m = await loadMessage(ctx, storeId, req.params.message_id);
      const updated = await applyAction(ctx, storeId, m, action, Date.now());
      if (!action.archive) ctx.onDeliveryDue();
      return detail(ctx, storeId, updated);
    },
  );
}

interface MessageAction {
  attemptNow: boolean;
  archive: boolean;
  payload: unknown;
}

/** The one action a PUT asks for, from its body and its query string (422 unless exactly one). */
function parseAction(
  body: Record<string, unknown>,
  query: Record<string, string | undefined>,
): MessageAction {
  const errors = new FieldErrorList();
  if (typeof body !== 'object' || Array.isArray(body)) errors.add('/', 'must be an object');
  for (const key of Object.keys(body)) {
    if (!['attempt_now', 'archive', 'payload'].includes(key)) errors.add(`/${key}`, 'is not a known action');
  }
  for (const flag of ['attempt_now', 'archive'] as const) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') errors.add(`/${flag}`, 'must be true');
    const q = query[flag];
    if (q !== undefined && q !== 'true' && q !== 'false') errors.add(`/query/${flag}`, 'must be true');
  }
  errors.throwIfAny();
  const attemptNow = body.attempt_now === true || query.attempt_now === 'true';
  const archive = body.archive === true || query.archive === 'true';
  const payload = body.payload;
  const chosen = [attemptNow, archive, payload !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw invalid({ '/': ['give exactly one of attempt_now, archive or payload'] });
  return { attemptNow, archive, payload };
}

/** Archives, retries, or edits and retries the message; a 422 when its state does not allow it. */
async function applyAction(
  ctx: AppContext,
  storeId: string,
  m: MessageRecord,
  { attemptNow, archive, payload }: MessageAction,
  now: number,
): Promise<MessageRecord> {
  let updated: MessageRecord | undefined;
  if (archive) {
    updated = await ctx.storage.archiveMessage(storeId, m.id, now);
    if (!updated)
      throw invalid({ '/archive': [`a message in ${m.queue_name}/${m.state} cannot be archived`] });
  } else if (attemptNow) {
    updated = await ctx.storage.retryMessage(storeId, m.id, now);
    if (!updated)
      throw invalid({
        '/attempt_now': [`a message in ${m.queue_name}/${m.state} cannot be attempted`],
      });
  } else {
    if (!payload || typeof payload !== 'object' || Array.isArray(payload))
      throw invalid({ '/payload': ['must be an object'] });
    if (!(m.queue_name === 'accepted' && m.state === 'parked')) {
      throw invalid({ '/payload': ['only a parked message can be edited'] });
    }
    const issues = await ctx.validator.validate(storeId, m.message, payload);
    if (issues.length > 0) throw invalid(issuesToFieldErrors(issues));
    updated = await ctx.storage.retryMessage(storeId, m.id, now, JSON.stringify(payload));
    if (!updated) throw invalid({ '/payload': ['the message is no longer parked'] });
  }
  return updated;
}

function registerBulk(app: App, ctx: AppContext, action: 'retry' | 'archive') {
  app.post(
    `/api/stores/:store_id/messages/${action}`,
    {
      schema: {
        summary:
          action === 'retry'
            ? 'Retry every matching accepted message now'
            : 'Archive every matching accepted message',
        description:
          'Takes the filters of the queue listing, in the query string or as a JSON body (not ' +
          'page or per_page: it acts on every match); answers how many messages were affected. ' +
          'An unknown filter is refused rather than ignored, which would act on every message.',
        tags,
        security: storeSecurity,
        params: Type.Object({ store_id: Type.String() }),
        querystring: BulkFilter,
        body: BulkFilter,
        response: { 200: Type.Object({ affected: Type.Integer() }), ...errorResponses },
      },
      // no body is no filter in the body (the schema then checks an empty object)
      preValidation: (req, _reply, done) => {
        req.body ??= {};
        done();
      },
    },
    async function actOnMatching(req) {
      const storeId = storeOf(req).id;
      const filter = toFilter(bulkFilter(req.query, req.body));
      const affected =
        action === 'retry'
          ? await ctx.storage.retryMatching(storeId, filter, Date.now())
          : await ctx.storage.archiveMatching(storeId, filter, Date.now());
      if (action === 'retry' && affected > 0) ctx.onDeliveryDue();
      return { affected };
    },
  );
}
