import { Type } from 'typebox';
import { serviceOf } from '../../pipeline/integrations/discovery.js';
import { DATA_TYPES } from '../../pipeline/parameter-validation.js';
import type { Integration } from '../../storage/integration-contract.js';
import type { Mapping } from '../../storage/mapping-contract.js';
import type { AppContext } from '../app.js';
import { iso } from '../present.js';
import { ErrorBody, errorResponses, Timestamp } from '../schemas.js';
import { byIdOrName, itemParams } from './by-id-or-name.js';

/** Schemas and helpers shared by the integration routes (integrations.ts, integration-actions.ts). */

const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);

const Service = Type.Object({
  name: Type.String(),
  path: Type.String({ examples: ['/order_confirmation'] }),
  description: Nullable(Type.String()),
  parameters: Type.Array(
    Type.Object({
      name: Type.String({ description: 'Without the integration prefix', examples: ['api_key'] }),
      description: Nullable(Type.String()),
      data_type: Type.String({ enum: [...DATA_TYPES] }),
      default: Type.Unknown(),
      allowed: Type.Union([Type.Array(Type.String()), Type.String(), Type.Null()]),
      optional: Type.Boolean(),
    }),
  ),
  recommends: Type.Object({
    messages: Type.Array(Type.String()),
    identifiers: Type.Record(Type.String(), Type.String()),
    filters: Type.Array(
      Type.Object({
        path: Type.String(),
        operator: Type.String(),
        value: Type.Optional(Type.Unknown()),
        match_rule: Type.Optional(Type.String()),
      }),
    ),
    options: Type.Record(Type.String(), Type.Unknown()),
  }),
});

export const IntegrationBody = Type.Object({
  id: Type.String(),
  store_id: Type.String(),
  name: Type.String(),
  url: Type.String(),
  token: Type.String(),
  category: Type.String(),
  status: Type.String({ enum: ['pending', 'ready'] }),
  display: Nullable(Type.String()),
  description: Nullable(Type.String()),
  icon_url: Nullable(Type.String()),
  help: Nullable(Type.String()),
  services: Type.Array(Service),
  error_messages: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'Why the integration is pending (its endpoint.json did not load or validate)',
  }),
  warnings: Type.Array(Type.String(), { description: 'Worth knowing, but the integration works' }),
  mappings: Type.Array(
    Type.Object({ id: Type.String(), name: Type.String(), service: Type.String(), enabled: Type.Boolean() }),
    { description: "The integration's mappings (one per signed-up service)" },
  ),
  refreshed_at: Timestamp,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const ItemParams = itemParams('integration', 'The integration id or its name');

export const integrationResponses = { ...errorResponses, 409: ErrorBody };

export function presentIntegration(i: Integration, owned: readonly Mapping[]) {
  const { created_at, updated_at, refreshed_at, ...rest } = i;
  return {
    ...rest,
    mappings: owned.map((m) => ({ id: m.id, name: m.name, service: serviceOf(i, m), enabled: m.enabled })),
    refreshed_at: iso(refreshed_at),
    created_at: iso(created_at)!,
    updated_at: iso(updated_at)!,
  };
}

/** The store's integrations, by id or by name. */
export function integrationItems(ctx: AppContext) {
  return byIdOrName<Integration>({
    notFound: 'INTEGRATION_NOT_FOUND',
    find: (storeId, idOrName) => ctx.storage.getIntegration(storeId, idOrName),
    remove: (storeId, id) => ctx.storage.deleteIntegration(storeId, id),
  });
}
