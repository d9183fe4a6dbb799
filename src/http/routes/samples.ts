import { Type } from 'typebox';
import { HubError } from '../../errors.js';
import { library } from '../../library/index.js';
import type { App } from '../app.js';
import { ErrorBody, JsonObject } from '../schemas.js';

/** Sample messages from the library; not store-scoped, as in the original hub. */
export function sampleRoutes() {
  return async (app: App) => {
    app.get(
      '/api/samples',
      {
        schema: {
          summary: 'Message types that have a sample',
          tags: ['samples'],
          response: { 200: Type.Array(Type.String()) },
        },
      },
      async () => library.sampleTypes(),
    );
    app.get(
      '/api/samples/:type',
      {
        schema: {
          summary: 'A valid example message of a type',
          tags: ['samples'],
          params: Type.Object({ type: Type.String({ examples: ['order:new'] }) }),
          response: { 200: Type.Object({ message: Type.String(), payload: JsonObject }), 404: ErrorBody },
        },
      },
      async (req) => {
        const sample = library.sample(req.params.type);
        if (!sample) throw new HubError('SAMPLE_NOT_FOUND');
        return sample;
      },
    );
  };
}
