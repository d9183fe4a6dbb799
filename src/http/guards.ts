import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';
import type { Store } from '../storage/contract.js';
import type { AppContext } from './app.js';
import type { LimitKind } from './rate-limit.js';

const STORE = Symbol('store');

type WithStore = FastifyRequest & { [STORE]?: Store };

/**
 * preHandler for store routes: 404 for an unknown store, 401 for a missing or wrong token, 429
 * past the store's rate limit of this `kind` (rate-limit.ts).
 * Callback-style, answering at once when the token was accepted moments ago (StoreAuth.known):
 * an async hook costs a promise and its turns on every push.
 */
export function requireStore(ctx: AppContext, kind: LimitKind = 'api') {
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const { store_id } = req.params as { store_id: string };
    const header = req.headers['x-augury-token'];
    const token = Array.isArray(header) ? header[0] : header;
    const store = ctx.auth.known(store_id, token);
    if (store) {
      (req as WithStore)[STORE] = store;
      done(ctx.limiter?.take(store, kind, reply));
      return;
    }
    ctx.auth
      .authenticate(store_id, token)
      .then(
        (s) => {
          (req as WithStore)[STORE] = s;
          // after the token check: requests without the store's token never spend its budget
          done(ctx.limiter?.take(s, kind, reply));
        },
        (err: Error) => done(err),
      )
      // only if Fastify's own callback threw: never leave that rejection unhandled
      .catch((err: unknown) => req.log.error({ err }, 'store guard callback failed'));
  };
}

export function storeOf(req: FastifyRequest): Store {
  const store = (req as WithStore)[STORE];
  if (!store) throw new Error('route is missing the requireStore guard');
  return store;
}

/** preHandler for the admin routes: disabled without a configured admin token. */
export function requireAdmin(ctx: AppContext) {
  return async (req: FastifyRequest): Promise<void> => {
    if (!ctx.adminToken) throw new HubError('ADMIN_DISABLED');
    const header = req.headers['x-admin-token'];
    // compared as SHA-256 digests: equal lengths whatever was sent, so the time taken tells
    // nothing about the token, not even its length
    const presented = digest(String(Array.isArray(header) ? header[0] : (header ?? '')));
    if (!timingSafeEqual(presented, digest(ctx.adminToken))) {
      throw new HubError('TOKEN_INVALID');
    }
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
