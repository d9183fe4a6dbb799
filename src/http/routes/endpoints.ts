import { Type } from 'typebox';
import { HubError } from '../../errors.js';
import { type BreakerState, originOf } from '../../pipeline/delivery/breaker.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { errorResponses, StoreParams, storeSecurity } from '../schemas.js';

const Circuit = Type.Union(
  [Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open'), Type.Null()],
  {
    description:
      "This process's circuit breaker for the origin (docs/delivery.md#circuit-breaking); null in a process that runs no deliveries (role api)",
  },
);
const Endpoint = Type.Object({
  origin: Type.String({ examples: ['https://erp.example.com'] }),
  mappings: Type.Array(Type.String(), { description: "Names of the store's mappings that deliver there" }),
  circuit: Circuit,
});

/** The circuit breakers as the routes see them: the engine's, when this process delivers. */
export interface CircuitView {
  state(origin: string): BreakerState;
  /** Closes the origin's circuit; its held copies go out at once. */
  reset(origin: string): void;
}

/** The store's endpoint origins and their circuit breakers; a reset closes one. */
export function endpointRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    const tags = ['endpoints'];
    const byOrigin = async (storeId: string) => {
      const origins = new Map<string, string[]>();
      for (const m of await ctx.storage.listMappings(storeId)) {
        const origin = originOf(m.url);
        origins.set(origin, [...(origins.get(origin) ?? []), m.name]);
      }
      return origins;
    };

    app.get(
      '/api/stores/:store_id/endpoints',
      {
        schema: {
          summary: "The origins the store's mappings deliver to, with their circuit breakers",
          tags,
          security: storeSecurity,
          params: StoreParams,
          response: { 200: Type.Array(Endpoint), ...errorResponses },
        },
      },
      async (req) =>
        [...(await byOrigin(storeOf(req).id))]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([origin, mappings]) => ({ origin, mappings, circuit: ctx.circuits?.state(origin) ?? null })),
    );

    app.post(
      '/api/stores/:store_id/endpoints/reset',
      {
        schema: {
          summary: "Close an origin's circuit breaker: its held copies are sent at once",
          tags,
          security: storeSecurity,
          params: StoreParams,
          body: Type.Object({ origin: Type.String() }, { additionalProperties: false }),
          response: { 200: Endpoint, ...errorResponses },
        },
      },
      async (req) => {
        const origin = req.body.origin;
        const mappings = (await byOrigin(storeOf(req).id)).get(origin);
        if (!mappings) throw new HubError('ENDPOINT_NOT_FOUND');
        ctx.circuits?.reset(origin);
        return { origin, mappings, circuit: ctx.circuits?.state(origin) ?? null };
      },
    );
  };
}
