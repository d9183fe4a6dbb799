import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../storage/contract.js';
import type { AppContext } from './app.js';
import { HubError } from './errors.js';

const STORE = Symbol('store');

type WithStore = FastifyRequest & { [STORE]?: Store };

/** preHandler for store routes: 404 for an unknown store, 401 for a missing or wrong token. */
export function requireStore(ctx: AppContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const { store_id } = req.params as { store_id: string };
    const header = req.headers['x-augury-token'];
    const token = Array.isArray(header) ? header[0] : header;
    (req as WithStore)[STORE] = await ctx.auth.authenticate(store_id, token);
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
    const presented = Buffer.from(String(Array.isArray(header) ? header[0] : (header ?? '')));
    const expected = Buffer.from(ctx.adminToken);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      throw new HubError('TOKEN_INVALID');
    }
  };
}
