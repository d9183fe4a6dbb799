import { Type } from 'typebox';
import { invalid } from '../../errors.js';
import { newId } from '../../ids.js';
import { parseEnvelope } from '../../pipeline/envelope.js';
import { issuesToFieldErrors } from '../../pipeline/message-validation.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { ErrorBody, JsonObject, StoreParams, storeSecurity } from '../schemas.js';

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const IDEMPOTENCY_KEY_MAX = 255;

const PushBody = Type.Object(
  {
    message: Type.String({
      description: 'Message type in colon notation, e.g. product:new',
      examples: ['product:new'],
    }),
    payload: JsonObject,
  },
  { additionalProperties: true, 'x-manual-validation': true },
);

/**
 * The push path of the seed page: `POST /api/stores/{id}/messages` answers 201 with everything the
 * sender submitted plus `message_id`, and only after the message is committed to the incoming
 * queue (group commit: concurrent pushes share a transaction, each answered after its commit).
 */
export function pushRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.post(
      '/api/stores/:store_id/messages',
      {
        preHandler: requireStore(ctx, 'push'),
        schema: {
          summary: 'Push a message into the incoming queue',
          description:
            'Answers 201 with the submitted body plus `message_id`, after the message is durably stored. ' +
            'An `Idempotency-Key` header makes retries safe: the same key within 24 hours returns the first answer.',
          tags: ['messages'],
          security: storeSecurity,
          params: StoreParams,
          headers: Type.Object({
            'idempotency-key': Type.Optional(Type.String({ maxLength: IDEMPOTENCY_KEY_MAX })),
          }),
          body: PushBody,
          response: {
            201: Type.Object(
              { message: Type.String(), payload: JsonObject, message_id: Type.String() },
              { additionalProperties: true },
            ),
            400: ErrorBody,
            401: ErrorBody,
            404: ErrorBody,
            413: ErrorBody,
            415: ErrorBody,
            422: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const store = storeOf(req);
        const parsed = parseEnvelope(req.body);
        if ('errors' in parsed) throw invalid(parsed.errors);
        const { message, payload, extra } = parsed.envelope;
        const issues = await ctx.validator.validate(store.id, message, payload);
        if (issues.length > 0) throw invalid(issuesToFieldErrors(issues));

        const idemHeader = req.headers['idempotency-key'];
        const idemKey = typeof idemHeader === 'string' && idemHeader !== '' ? idemHeader : undefined;
        if (idemKey && idemKey.length > IDEMPOTENCY_KEY_MAX) {
          throw invalid({
            '/headers/idempotency-key': [`must be at most ${IDEMPOTENCY_KEY_MAX} characters`],
          });
        }

        const id = newId();
        const now = Date.now();
        const payloadText = JSON.stringify(payload);
        const extraText = extra ? JSON.stringify(extra) : null;
        const response = echo(message, payloadText, extraText, id);
        const outcome = await ctx.storage.push({
          message: {
            id,
            store_id: store.id,
            message,
            payload: payloadText,
            extra: extraText,
            origin: 'push',
            parent_id: null,
            depth: 0,
            created_at: now,
          },
          ...(idemKey
            ? { idempotency: { key: idemKey, response, expires_before: now - IDEMPOTENCY_WINDOW_MS } }
            : {}),
        });
        if (outcome.kind === 'replayed') {
          reply.header('idempotent-replayed', 'true');
          return reply
            .code(201)
            .type('application/json')
            .send(outcome.response as never);
        }
        ctx.metrics?.pushed.inc();
        if (!outcome.routed) ctx.onIncoming();
        return reply
          .code(201)
          .type('application/json')
          .send(response as never);
      },
    );
  };
}

/**
 * Everything the sender submitted plus `message_id` (replacing any id the sender put there),
 * assembled from the texts already made for storage: the payload, usually most of the body, is
 * serialised once, not twice.
 */
function echo(message: string, payloadText: string, extraText: string | null, id: string): string {
  const extras = extraText && extraText !== '{}' ? `,${extraText.slice(1, -1)}` : '';
  return `{"message":${JSON.stringify(message)},"payload":${payloadText}${extras},"message_id":"${id}"}`;
}
