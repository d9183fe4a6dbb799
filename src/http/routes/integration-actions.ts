import { Type } from 'typebox';
import { HubError, invalid } from '../../errors.js';
import { discover, ownedMappings, syncMappings } from '../../pipeline/integrations/discovery.js';
import { applySignup, planSignup } from '../../pipeline/integrations/signup.js';
import type { Integration } from '../../storage/integration-contract.js';
import { MappingChanged, MappingNameTaken, untilUnchanged } from '../../storage/mapping-contract.js';
import type { App, AppContext } from '../app.js';
import { storeOf } from '../guards.js';
import { storeSecurity } from '../schemas.js';
import { fetchWith } from '../url-check.js';
import type { ItemAccess } from './by-id-or-name.js';
import {
  IntegrationBody,
  ItemParams,
  integrationItems,
  integrationResponses,
  presentIntegration,
} from './integration-schemas.js';

const SignupBody = Type.Object(
  {
    parameters: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Values by parameter name, bare (api_key) or prefixed (mandrill.api_key)',
        examples: [{ api_key: 'abc123' }],
      }),
    ),
    enabled: Type.Array(Type.String(), { description: 'Services to sign up for', examples: [['orders']] }),
  },
  { 'x-manual-validation': true },
);

/**
 * The integration actions of the original hub: refresh, sign-up ("Enable"), and turning all of an
 * integration's mappings on or off. Registered inside integrationRoutes, whose store guard covers
 * these routes too. enable_mappings / disable_mappings answer GET, as the original's client called
 * them, and POST, which is what a state change should be.
 */
export function integrationActionRoutes(ctx: AppContext) {
  return async (app: App) => {
    const integrations = integrationItems(ctx);
    registerRefresh(app, ctx, integrations);
    registerSignup(app, ctx, integrations);
    for (const enabled of [true, false]) registerEnableMappings(app, ctx, integrations, enabled);
  };
}

const tags = ['integrations'];

function registerRefresh(app: App, ctx: AppContext, integrations: ItemAccess<Integration>) {
  app.post(
    '/api/stores/:store_id/integrations/:integration/refresh',
    {
      schema: {
        summary: 'Fetch endpoint.json again',
        description:
          'A good descriptor makes the integration ready (mappings follow changed service paths); a bad ' +
          'one makes it pending and keeps the last good services and every mapping.',
        tags,
        security: storeSecurity,
        params: ItemParams,
        response: { 200: IntegrationBody, ...integrationResponses },
      },
    },
    async function refreshIntegration(req) {
      const storeId = storeOf(req).id;
      const existing = await integrations.load(storeId, req.params.integration);
      const now = Date.now();
      const owned = await ownedMappings(ctx.storage, existing);
      const descriptor = await discover(existing, existing, owned, now, fetchWith(ctx));
      const updated = integrations.written(
        await ctx.storage.updateIntegration({ ...existing, ...descriptor, updated_at: now }),
      );
      if (updated.status === 'ready' && (await syncMappings(ctx.storage, updated, owned, now)) > 0) {
        ctx.onMappingsChanged?.(storeId);
      }
      return presentIntegration(updated, await ownedMappings(ctx.storage, updated));
    },
  );
}

function registerSignup(app: App, ctx: AppContext, integrations: ItemAccess<Integration>) {
  app.post(
    '/api/stores/:store_id/integrations/:integration/signup',
    {
      schema: {
        summary: 'Sign up for services: one mapping per enabled service, plus the parameters',
        description:
          "Mappings are named <integration>.<service> and seeded from the service's recommends; " +
          'parameters are stored as <integration>.<name>, with their defaults. A required parameter ' +
          'neither sent nor stored answers 422 at /parameters/<name>. 409 while the integration is pending.',
        tags,
        security: storeSecurity,
        params: ItemParams,
        body: SignupBody,
        response: { 200: IntegrationBody, ...integrationResponses },
      },
    },
    async function signUp(req) {
      const storeId = storeOf(req).id;
      const integration = await integrations.load(storeId, req.params.integration);
      if (integration.status !== 'ready') throw new HubError('INTEGRATION_PENDING');
      // planned from what is stored, written in one transaction; planned again if a mapping it
      // updates was edited in between (the write would otherwise undo that edit)
      await untilUnchanged(
        async () => {
          const [mappings, parameters] = await Promise.all([
            ctx.storage.listMappings(storeId),
            ctx.storage.listParameters(storeId),
          ]);
          const planned = planSignup(integration, req.body, mappings, parameters);
          if (!planned.ok) throw invalid(planned.errors);
          await applySignup(ctx.storage, integration, planned.plan, Date.now());
        },
        // a mapping created meanwhile under the name is adopted (or refused) by the next plan
        (err) => err instanceof MappingChanged || err instanceof MappingNameTaken,
      );
      ctx.onMappingsChanged?.(storeId);
      return presentIntegration(integration, await ownedMappings(ctx.storage, integration));
    },
  );
}

function registerEnableMappings(
  app: App,
  ctx: AppContext,
  integrations: ItemAccess<Integration>,
  enabled: boolean,
) {
  const action = enabled ? 'enable_mappings' : 'disable_mappings';
  app.route({
    method: ['GET', 'POST'],
    url: `/api/stores/:store_id/integrations/:integration/${action}`,
    schema: {
      summary: enabled
        ? "Enable all of the integration's mappings"
        : "Disable all of the integration's mappings (required ones stay enabled)",
      tags,
      security: storeSecurity,
      params: ItemParams,
      response: { 200: IntegrationBody, ...integrationResponses },
    },
    handler: async function setMappingsEnabled(req) {
      const storeId = storeOf(req).id;
      const params = req.params as { integration: string };
      const integration = await integrations.load(storeId, params.integration);
      if (
        (await ctx.storage.setIntegrationMappingsEnabled(storeId, integration.id, enabled, Date.now())) > 0
      ) {
        ctx.onMappingsChanged?.(storeId);
      }
      return presentIntegration(integration, await ownedMappings(ctx.storage, integration));
    },
  });
}
