import { Type } from 'typebox';
import { HubError } from '../../errors.js';
import { VERSION } from '../../version.js';
import type { App, AppContext } from '../app.js';

export function healthRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.get(
      '/healthz',
      {
        schema: {
          summary: 'Liveness: the process answers',
          tags: ['health'],
          response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String() }) },
        },
      },
      async () => ({ status: 'ok' as const, version: VERSION }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          summary: 'Readiness: the database answers and the hub is not shutting down',
          tags: ['health'],
          response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }) },
        },
      },
      async () => {
        try {
          await ctx.storage.ping();
        } catch {
          throw new HubError('UNAVAILABLE', undefined, 'Database is not reachable.');
        }
        if (!ctx.isReady()) throw new HubError('UNAVAILABLE', undefined, 'Hub is starting or shutting down.');
        return { status: 'ready' as const, database: ctx.storage.database.name };
      },
    );
  };
}
