import { Type } from 'typebox';
import { HubError, invalid } from '../../errors.js';
import { checkStoreSchema, STORE_SCHEMA_LIMITS } from '../../library/index.js';
import { checkMessageType } from '../../pipeline/envelope.js';
import { issuesToFieldErrors } from '../../pipeline/message-validation.js';
import type { StoreSchema } from '../../storage/contract.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { iso } from '../present.js';
import { errorResponses, JsonObject, storeSecurity } from '../schemas.js';

const SchemaBody = Type.Object({
  message: Type.String(),
  schema: JsonObject,
  version: Type.Integer(),
  updated_at: Type.String({ format: 'date-time' }),
});
const TypeParams = Type.Object({
  store_id: Type.String(),
  type: Type.String({ examples: ['acme:invoice:paid'] }),
});

const present = (s: StoreSchema) => ({
  message: s.message,
  schema: JSON.parse(s.schema),
  version: s.version,
  updated_at: iso(s.updated_at)!,
});

/**
 * Per-store message schemas (docs/routing.md#store-schemas): a store registers a JSON Schema (draft 2020-12)
 * for a type's payload, checked at push in addition to the library's. Size and depth are limited because a
 * schema is compiled into code.
 */
export function messageTypeRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    registerList(app, ctx);
    registerGet(app, ctx);
    registerPut(app, ctx);
    registerDelete(app, ctx);
  };
}

const tags = ['message types'];

function registerList(app: App, ctx: AppContext) {
  app.get(
    '/api/stores/:store_id/message_types',
    {
      schema: {
        summary: "The store's registered payload schemas",
        tags,
        security: storeSecurity,
        params: Type.Object({ store_id: Type.String() }),
        response: { 200: Type.Array(SchemaBody), ...errorResponses },
      },
    },
    async function listSchemas(req) {
      return (await ctx.storage.listStoreSchemas(storeOf(req).id)).map(present);
    },
  );
}

function registerGet(app: App, ctx: AppContext) {
  app.get(
    '/api/stores/:store_id/message_types/:type',
    {
      schema: {
        summary: 'One registered schema',
        tags,
        security: storeSecurity,
        params: TypeParams,
        response: { 200: SchemaBody, ...errorResponses },
      },
    },
    async function getSchema(req) {
      const found = await ctx.storage.getStoreSchema(storeOf(req).id, req.params.type);
      if (!found) throw new HubError('SCHEMA_NOT_FOUND');
      return present(found);
    },
  );
}

function registerPut(app: App, ctx: AppContext) {
  app.put(
    '/api/stores/:store_id/message_types/:type',
    {
      schema: {
        summary: 'Register or replace the payload schema of a type',
        description:
          `Body: \`{"schema": {...}}\` (the value an object) or the bare schema. At most ${STORE_SCHEMA_LIMITS.maxBytes} bytes and ${STORE_SCHEMA_LIMITS.maxDepth} levels deep. ` +
          'Patterns run on a linear-time engine (RE2): lookaround and backreferences are refused. ' +
          `\`uniqueItems\` needs items of scalar types or \`maxItems\` of at most ${STORE_SCHEMA_LIMITS.maxUniqueItems}.`,
        tags,
        security: storeSecurity,
        params: TypeParams,
        body: JsonObject,
        response: { 200: SchemaBody, ...errorResponses },
      },
    },
    async function putSchema(req) {
      const storeId = storeOf(req).id;
      const typeReason = checkMessageType(req.params.type);
      if (typeReason) throw invalid({ '/type': [typeReason] });
      const body = req.body as Record<string, unknown>;
      // "schema" is no JSON Schema keyword: a body with it is the wrapped form, whose value must
      // be the schema (`{"schema": "nope"}` was stored as a bare schema that allowed everything)
      if (
        'schema' in body &&
        (typeof body.schema !== 'object' || body.schema === null || Array.isArray(body.schema))
      )
        throw invalid({ '/schema': ['must be an object (a JSON Schema)'] });
      const schema = 'schema' in body ? (body.schema as object) : body;
      const issues = checkStoreSchema(schema);
      if (issues.length > 0) throw invalid(issuesToFieldErrors(issues));
      const saved = await ctx.storage.putStoreSchema({
        store_id: storeId,
        message: req.params.type,
        schema: JSON.stringify(schema),
        version: 0,
        updated_at: Date.now(),
      });
      ctx.validator.invalidate(storeId);
      return present(saved);
    },
  );
}

function registerDelete(app: App, ctx: AppContext) {
  app.delete(
    '/api/stores/:store_id/message_types/:type',
    {
      schema: {
        summary: 'Remove a registered schema',
        tags,
        security: storeSecurity,
        params: TypeParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async function deleteSchema(req, reply) {
      const storeId = storeOf(req).id;
      if (!(await ctx.storage.deleteStoreSchema(storeId, req.params.type)))
        throw new HubError('SCHEMA_NOT_FOUND');
      ctx.validator.invalidate(storeId);
      reply.code(204).send(null);
    },
  );
}
