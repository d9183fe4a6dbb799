import { Type } from 'typebox';
import { HubError, invalid } from '../../errors.js';
import { newId } from '../../ids.js';
import type { Store, StoreToken } from '../../storage/contract.js';
import { generateToken, hashToken, tokenHint } from '../../tokens.js';
import type { App, AppContext } from '../app.js';
import { requireAdmin } from '../guards.js';
import { iso } from '../present.js';
import type { StoreLimits } from '../rate-limit.js';
import { adminSecurity, ErrorBody, StoreParams } from '../schemas.js';

const Limit = (what: string) =>
  Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: what }));
const LimitsBody = Type.Object(
  {
    push_rate: Limit('pushes a second; 0: unlimited'),
    push_burst: Limit('pushes at once after a quiet spell (default: twice push_rate)'),
    api_rate: Limit('other store API requests a second; 0: unlimited'),
    api_burst: Limit('other requests at once (default: twice api_rate)'),
  },
  { additionalProperties: false },
);
const StoreBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  limits: Type.Union([LimitsBody, Type.Null()], {
    description:
      "The store's own rate limits; null or an absent field: the hub's settings (docs/security.md)",
  }),
});
const UpdateStore = Type.Object(
  {
    limits: Type.Union([LimitsBody, Type.Null()], { description: 'Replaces the limits; null clears them' }),
  },
  { additionalProperties: false },
);
const TokenBody = Type.Object({
  id: Type.String(),
  hint: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const NewToken = Type.Object({ id: Type.String(), token: Type.String({ description: 'Shown only once' }) });
const CreateStore = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200, description: 'Not blank; trimmed' }) },
  { additionalProperties: false },
);

/** Creates a store with its first token. Shared by the admin API and the CLI's direct mode. */
export function newStore(
  name: string,
  now = Date.now(),
): { store: Store; token: StoreToken; secret: string } {
  const store: Store = { id: newId(), name, created_at: now };
  const { token, secret } = newToken(store.id, now);
  return { store, token, secret };
}

export function newToken(storeId: string, now = Date.now()): { token: StoreToken; secret: string } {
  const secret = generateToken();
  return {
    secret,
    token: {
      id: newId(),
      store_id: storeId,
      token_hash: hashToken(secret),
      hint: tokenHint(secret),
      created_at: now,
      revoked_at: null,
    },
  };
}

const presentStore = (s: Store) => ({
  id: s.id,
  name: s.name,
  created_at: iso(s.created_at)!,
  limits: s.limits ? (JSON.parse(s.limits) as StoreLimits) : null,
});
const presentToken = (t: StoreToken) => ({
  id: t.id,
  hint: t.hint,
  created_at: iso(t.created_at)!,
  revoked_at: iso(t.revoked_at),
});

/** The admin collection: stores and their tokens, behind X-Admin-Token. */
export function storeRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireAdmin(ctx));
    const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody };

    app.post(
      '/api/stores',
      {
        schema: {
          summary: 'Create a store and its first API token',
          tags,
          security: adminSecurity,
          body: CreateStore,
          response: { 201: Type.Object({ ...StoreBody.properties, token: Type.String() }), ...errors },
        },
      },
      async (req, reply) => {
        const name = req.body.name.trim();
        if (name === '') throw invalid({ '/name': ['must not be blank'] });
        const { store, token, secret } = newStore(name);
        await ctx.storage.createStore(store, token);
        reply.code(201);
        return { ...presentStore(store), token: secret };
      },
    );

    app.get(
      '/api/stores',
      {
        schema: {
          summary: 'List stores',
          tags,
          security: adminSecurity,
          response: { 200: Type.Array(StoreBody), ...errors },
        },
      },
      async () => (await ctx.storage.listStores()).map(presentStore),
    );

    storeItemRoutes(app, ctx, errors);
    tokenRoutes(app, ctx, errors);
  };
}

type AdminErrors = Record<401 | 403 | 404 | 422, typeof ErrorBody>;
const tags = ['stores (admin)'];

/** One store: read it, set its rate limits. */
function storeItemRoutes(app: App, ctx: AppContext, errors: AdminErrors): void {
  app.get(
    '/api/stores/:store_id',
    {
      schema: {
        summary: 'A store, with its rate limits',
        tags,
        security: adminSecurity,
        params: StoreParams,
        response: { 200: StoreBody, ...errors },
      },
    },
    async (req) => {
      const store = await ctx.storage.getStore(req.params.store_id);
      if (!store) throw new HubError('STORE_NOT_FOUND');
      return presentStore(store);
    },
  );

  app.patch(
    '/api/stores/:store_id',
    {
      schema: {
        summary: "Set a store's rate limits",
        description: 'Takes effect at once in this process and within 5 s in the others (their store cache).',
        tags,
        security: adminSecurity,
        params: StoreParams,
        body: UpdateStore,
        response: { 200: StoreBody, ...errors },
      },
    },
    async (req) => {
      const { limits } = req.body;
      const kept = limits && Object.keys(limits).length > 0 ? JSON.stringify(limits) : null;
      if (!(await ctx.storage.setStoreLimits(req.params.store_id, kept)))
        throw new HubError('STORE_NOT_FOUND');
      ctx.auth.invalidate(req.params.store_id);
      const store = await ctx.storage.getStore(req.params.store_id);
      if (!store) throw new HubError('STORE_NOT_FOUND');
      return presentStore(store);
    },
  );
}

/** A store's API tokens: list (hints only), create, revoke. */
function tokenRoutes(app: App, ctx: AppContext, errors: AdminErrors): void {
  app.get(
    '/api/stores/:store_id/tokens',
    {
      schema: {
        summary: "List a store's tokens (hints only)",
        tags,
        security: adminSecurity,
        params: StoreParams,
        response: { 200: Type.Array(TokenBody), ...errors },
      },
    },
    async (req) => {
      if (!(await ctx.storage.getStore(req.params.store_id))) throw new HubError('STORE_NOT_FOUND');
      return (await ctx.storage.listTokens(req.params.store_id)).map(presentToken);
    },
  );

  app.post(
    '/api/stores/:store_id/tokens',
    {
      schema: {
        summary: 'Create another API token for a store',
        tags,
        security: adminSecurity,
        params: StoreParams,
        response: { 201: NewToken, ...errors },
      },
    },
    async (req, reply) => {
      if (!(await ctx.storage.getStore(req.params.store_id))) throw new HubError('STORE_NOT_FOUND');
      const { token, secret } = newToken(req.params.store_id);
      await ctx.storage.addToken(token);
      ctx.auth.invalidate(req.params.store_id);
      reply.code(201);
      return { id: token.id, token: secret };
    },
  );

  app.delete(
    '/api/stores/:store_id/tokens/:token_id',
    {
      schema: {
        summary: 'Revoke a token',
        tags,
        security: adminSecurity,
        params: Type.Object({ store_id: Type.String(), token_id: Type.String() }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      if (!(await ctx.storage.getStore(req.params.store_id))) throw new HubError('STORE_NOT_FOUND');
      const revoked = await ctx.storage.revokeToken(req.params.store_id, req.params.token_id, Date.now());
      if (!revoked) throw new HubError('TOKEN_NOT_FOUND');
      ctx.auth.invalidate(req.params.store_id);
      reply.code(204).send(null);
    },
  );
}
