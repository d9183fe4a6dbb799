import { Type } from 'typebox';
import { invalid } from '../../errors.js';
import { newId } from '../../ids.js';
import { discover, ownedMappings, syncMappings } from '../../pipeline/integrations/discovery.js';
import { integrationFromQuery, parseIntegration } from '../../pipeline/integrations/validation.js';
import { type Integration, IntegrationNameTaken } from '../../storage/integration-contract.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { errorResponses, StoreParams, storeSecurity } from '../schemas.js';
import { checkEndpointUrl, fetchWith } from '../url-check.js';
import type { ItemAccess } from './by-id-or-name.js';
import { integrationActionRoutes } from './integration-actions.js';
import { IntegrationBody, ItemParams, integrationItems, presentIntegration } from './integration-schemas.js';

const Input = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9_-]+$', maxLength: 100, examples: ['mandrill'] }),
    url: Type.String({ format: 'uri', description: 'Base URL; the hub fetches {url}/endpoint.json' }),
    token: Type.String({ description: "The endpoint's key: every mapping of the integration sends it" }),
    category: Type.Optional(Type.String({ default: 'custom' })),
  },
  { additionalProperties: false },
);
const CreateBody = Type.Union([Input, Type.Object({ integration: Input })], {
  'x-manual-validation': true,
  description:
    'Bare, wrapped as {"integration": {…}}, or no body and ?integration[name]=…&integration[url]=…',
});
const UpdateInput = Type.Partial(Input);
const UpdateBody = Type.Union([UpdateInput, Type.Object({ integration: UpdateInput })], {
  'x-manual-validation': true,
  description: 'url, token and/or category (the name cannot change)',
});

const nameTaken = () => invalid({ '/name': ['is already used by another integration in this store'] });

/**
 * Integrations (docs/integrations.md#integrations-api). Creating one, or changing its URL, fetches the
 * endpoint's `endpoint.json` before answering (at most a few seconds, see pipeline/integrations/
 * fetch.ts): the answer already says `ready` or `pending` with the reasons.
 */
export function integrationRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    const integrations = integrationItems(ctx);
    registerList(app, ctx);
    registerCreate(app, ctx);
    registerGet(app, ctx, integrations);
    registerUpdate(app, ctx, integrations);
    registerDelete(app, ctx, integrations);
    await app.register(integrationActionRoutes(ctx));
  };
}

const tags = ['integrations'];

function registerList(app: App, ctx: AppContext) {
  app.get(
    '/api/stores/:store_id/integrations',
    {
      schema: {
        summary: "The store's integrations, by name",
        description: "`?global=1` (the original's global catalog) answers an empty list: there is none.",
        tags,
        security: storeSecurity,
        params: StoreParams,
        querystring: Type.Object({ global: Type.Optional(Type.String()) }),
        response: { 200: Type.Array(IntegrationBody), ...errorResponses },
      },
    },
    async function listIntegrations(req) {
      const storeId = storeOf(req).id;
      if ((req.query as { global?: string }).global) return [];
      const [all, mappings] = await Promise.all([
        ctx.storage.listIntegrations(storeId),
        ctx.storage.listMappings(storeId),
      ]);
      return all.map((i) =>
        presentIntegration(
          i,
          mappings.filter((m) => m.integration_id === i.id),
        ),
      );
    },
  );
}

function registerCreate(app: App, ctx: AppContext) {
  app.post(
    '/api/stores/:store_id/integrations',
    {
      schema: {
        summary: 'Register an integration and load its endpoint.json',
        description:
          'Answers 201 whether or not the descriptor loaded: status `ready` with its services, or ' +
          '`pending` with `error_messages`.',
        tags,
        security: storeSecurity,
        params: StoreParams,
        querystring: Type.Object({}, { additionalProperties: true }),
        body: CreateBody,
        response: { 201: IntegrationBody, ...errorResponses },
      },
    },
    async function createIntegration(req, reply) {
      const storeId = storeOf(req).id;
      const query = integrationFromQuery(req.query as Record<string, unknown>);
      const parsed = parseIntegration(req.body ?? query);
      if (!parsed.ok) throw invalid(parsed.errors);
      const fields = parsed.fields;
      checkEndpointUrl(ctx.urlPolicy, fields.url);
      if (await ctx.storage.getIntegration(storeId, fields.name)) throw nameTaken();
      const now = Date.now();
      const descriptor = await discover(fields, undefined, [], now, fetchWith(ctx));
      let created: Integration;
      try {
        created = await ctx.storage.createIntegration({
          ...fields,
          ...descriptor,
          id: newId(),
          store_id: storeId,
          created_at: now,
          updated_at: now,
        });
      } catch (err) {
        if (err instanceof IntegrationNameTaken) throw nameTaken();
        throw err;
      }
      return reply.code(201).send(presentIntegration(created, []));
    },
  );
}

function registerGet(app: App, ctx: AppContext, integrations: ItemAccess<Integration>) {
  app.get(
    '/api/stores/:store_id/integrations/:integration',
    {
      schema: {
        summary: 'One integration, by id or by name',
        tags,
        security: storeSecurity,
        params: ItemParams,
        response: { 200: IntegrationBody, ...errorResponses },
      },
    },
    async function getIntegration(req) {
      const i = await integrations.load(storeOf(req).id, req.params.integration);
      return presentIntegration(i, await ownedMappings(ctx.storage, i));
    },
  );
}

function registerUpdate(app: App, ctx: AppContext, integrations: ItemAccess<Integration>) {
  app.put(
    '/api/stores/:store_id/integrations/:integration',
    {
      schema: {
        summary: 'Change the URL, token or category of an integration',
        description:
          "A new URL reloads endpoint.json. The integration's mappings follow its URL, service paths and token.",
        tags,
        security: storeSecurity,
        params: ItemParams,
        body: UpdateBody,
        response: { 200: IntegrationBody, ...errorResponses },
      },
    },
    async function updateIntegration(req) {
      const storeId = storeOf(req).id;
      const existing = await integrations.load(storeId, req.params.integration);
      const parsed = parseIntegration(req.body, existing);
      if (!parsed.ok) throw invalid(parsed.errors);
      checkEndpointUrl(ctx.urlPolicy, parsed.fields.url, existing.url);
      const now = Date.now();
      const owned = await ownedMappings(ctx.storage, existing);
      const descriptor =
        parsed.fields.url !== existing.url
          ? await discover(parsed.fields, existing, owned, now, fetchWith(ctx))
          : {};
      const updated = integrations.written(
        await ctx.storage.updateIntegration({
          ...existing,
          ...parsed.fields,
          ...descriptor,
          updated_at: now,
        }),
      );
      if ((await syncMappings(ctx.storage, updated, owned, now)) > 0) ctx.onMappingsChanged?.(storeId);
      return presentIntegration(updated, await ownedMappings(ctx.storage, updated));
    },
  );
}

function registerDelete(app: App, ctx: AppContext, integrations: ItemAccess<Integration>) {
  app.delete(
    '/api/stores/:store_id/integrations/:integration',
    {
      schema: {
        summary: 'Delete an integration and its mappings',
        description:
          'Its parameters stay (they are store configuration). A required mapping blocks the delete (422).',
        tags,
        security: storeSecurity,
        params: ItemParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async function deleteIntegration(req, reply) {
      const storeId = storeOf(req).id;
      const existing = await integrations.load(storeId, req.params.integration);
      const required = (await ownedMappings(ctx.storage, existing)).filter((m) => m.required);
      if (required.length > 0) {
        throw invalid({
          '/mappings': required.map(
            (m) => `the required mapping ${m.name} cannot be deleted; set required to false first`,
          ),
        });
      }
      await integrations.remove(storeId, existing);
      ctx.onMappingsChanged?.(storeId);
      reply.code(204).send(null);
    },
  );
}
