import { Type } from 'typebox';
import { invalid } from '../../errors.js';
import { looksLikeId } from '../../ids.js';
import { DEFAULT_OPTIONS, MAPPING_LIMITS, parseMapping } from '../../pipeline/mapping-validation.js';
import { OPERATORS } from '../../pipeline/routing/filters.js';
import {
  type Mapping,
  type MappingFields,
  MappingNameTaken,
  newMapping,
  untilUnchanged,
} from '../../storage/mapping-contract.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { iso } from '../present.js';
import { errorResponses, storeSecurity } from '../schemas.js';
import { checkEndpointUrl, checkMappingCaps } from '../url-check.js';
import { byIdOrName, type ItemAccess, itemParams } from './by-id-or-name.js';

const Filter = Type.Object({
  path: Type.String({ examples: ['payload.order.status'] }),
  operator: Type.String({ enum: [...OPERATORS] }),
  value: Type.Optional(Type.Unknown({ description: 'Not needed by present and empty' })),
  match_rule: Type.Optional(Type.String({ enum: ['all', 'any'], default: 'all' })),
});

const d = DEFAULT_OPTIONS;
const Options = Type.Object({
  retries_allowed: Type.Boolean({ default: d.retries_allowed }),
  timeout_ms: Type.Integer({ minimum: 1, maximum: MAPPING_LIMITS.maxTimeoutMs, default: d.timeout_ms }),
  max_attempts: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: null }),
  max_age: Type.Integer({ minimum: 1, default: d.max_age, description: 'Seconds' }),
  concurrency: Type.Integer({ minimum: 1, maximum: MAPPING_LIMITS.maxConcurrency, default: d.concurrency }),
  ordering_key: Type.Union([Type.String({ examples: ['payload.order.number'] }), Type.Null()], {
    default: null,
  }),
  signing_secret: Type.Union([Type.String({ minLength: MAPPING_LIMITS.signingSecretMin }), Type.Null()], {
    default: null,
  }),
  identifier_ttl: Type.Integer({ minimum: 1, default: d.identifier_ttl, description: 'Seconds' }),
  format: Type.String({ enum: ['augury'], default: 'augury' }),
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: MAPPING_LIMITS.nameLength, examples: ['shipping.ship'] }),
  url: Type.String({ format: 'uri', examples: ['https://endpoint.example.com/ship'] }),
  token: Type.String({ description: 'Sent to the endpoint as X-Augury-Token and X-Hub-Token' }),
  messages: Type.Array(Type.String({ examples: ['shipment:ready', 'order:*'] }), { minItems: 1 }),
  filters: Type.Array(Filter),
  identifiers: Type.Record(Type.String(), Type.String(), {
    examples: [{ shipment: 'payload.shipment.number' }],
  }),
  parameters: Type.Union([Type.Array(Type.String()), Type.Null()]),
  options: Options,
  enabled: Type.Boolean({ default: true }),
  required: Type.Boolean({ default: false, description: 'A required mapping cannot be disabled or deleted' }),
};

const MappingInput = Type.Object(
  {
    ...fields,
    filters: Type.Optional(fields.filters),
    identifiers: Type.Optional(fields.identifiers),
    parameters: Type.Optional(fields.parameters),
    options: Type.Optional(Type.Partial(Options)),
    enabled: Type.Optional(fields.enabled),
    required: Type.Optional(fields.required),
  },
  { additionalProperties: false },
);
const CreateBody = Type.Union([MappingInput, Type.Object({ mapping: MappingInput })], {
  'x-manual-validation': true,
  description: 'A mapping, bare or wrapped as {"mapping": {…}}',
});
const UpdateBody = Type.Union(
  [Type.Partial(MappingInput), Type.Object({ mapping: Type.Partial(MappingInput) })],
  {
    'x-manual-validation': true,
    description: 'Any subset of the fields, merged onto the stored mapping (options merged option by option)',
  },
);

export const MappingBody = Type.Object({
  id: Type.String(),
  store_id: Type.String(),
  ...fields,
  integration_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});

const MappingParams = itemParams('mapping_id');

export function presentMapping(m: Mapping) {
  return { ...m, created_at: iso(m.created_at)!, updated_at: iso(m.updated_at)! };
}

const nameTaken = () => invalid({ '/name': ['is already used by another mapping in this store'] });

/**
 * Mappings CRUD (docs/routing.md#mappings-api; decisions in docs/routing.md#decisions). Every write tells the
 * router through `onMappingsChanged`, so the next intake batch routes with the new set.
 */
export function mappingRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    const mappings = byIdOrName<Mapping>({
      notFound: 'MAPPING_NOT_FOUND',
      // by id only: a mapping's name is not part of its path
      find: async (storeId, id) => (looksLikeId(id) ? ctx.storage.getMapping(storeId, id) : undefined),
      remove: (storeId, id) => ctx.storage.deleteMapping(storeId, id),
    });
    registerList(app, ctx);
    registerCreate(app, ctx);
    registerGet(app, mappings);
    registerUpdate(app, ctx, mappings);
    registerDelete(app, ctx, mappings);
  };
}

const tags = ['mappings'];

function parse(body: unknown, base?: MappingFields): MappingFields {
  const parsed = parseMapping(body, base);
  if (!parsed.ok) throw invalid(parsed.errors);
  return parsed.fields;
}

/** A write, with the name clash storage found (another writer took the name meanwhile) as the 422. */
async function unlessNameTaken<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof MappingNameTaken) throw nameTaken();
    throw err;
  }
}

function registerList(app: App, ctx: AppContext) {
  app.get(
    '/api/stores/:store_id/mappings',
    {
      schema: {
        summary: "The store's mappings, by name",
        tags,
        security: storeSecurity,
        params: Type.Object({ store_id: Type.String() }),
        response: { 200: Type.Array(MappingBody), ...errorResponses },
      },
    },
    async function listMappings(req) {
      return (await ctx.storage.listMappings(storeOf(req).id)).map(presentMapping);
    },
  );
}

function registerCreate(app: App, ctx: AppContext) {
  app.post(
    '/api/stores/:store_id/mappings',
    {
      schema: {
        summary: 'Create a mapping',
        description: 'Unknown fields are rejected; options not given take their defaults.',
        tags,
        security: storeSecurity,
        params: Type.Object({ store_id: Type.String() }),
        body: CreateBody,
        response: { 201: MappingBody, ...errorResponses },
      },
    },
    async function createMapping(req, reply) {
      const storeId = storeOf(req).id;
      const fields = parse(req.body);
      checkEndpointUrl(ctx.urlPolicy, fields.url);
      checkMappingCaps(ctx.mappingCaps, fields.options);
      if (await ctx.storage.findMappingByName(storeId, fields.name)) throw nameTaken();
      const created = await unlessNameTaken(() =>
        ctx.storage.createMapping(newMapping(fields, storeId, Date.now())),
      );
      ctx.onMappingsChanged?.(storeId);
      return reply.code(201).send(presentMapping(created));
    },
  );
}

function registerGet(app: App, mappings: ItemAccess<Mapping>) {
  app.get(
    '/api/stores/:store_id/mappings/:mapping_id',
    {
      schema: {
        summary: 'One mapping',
        tags,
        security: storeSecurity,
        params: MappingParams,
        response: { 200: MappingBody, ...errorResponses },
      },
    },
    async function getMapping(req) {
      return presentMapping(await mappings.load(storeOf(req).id, req.params.mapping_id));
    },
  );
}

function registerUpdate(app: App, ctx: AppContext, mappings: ItemAccess<Mapping>) {
  app.put(
    '/api/stores/:store_id/mappings/:mapping_id',
    {
      schema: {
        summary: 'Update a mapping (partial: given fields replace the stored ones)',
        description:
          'The merged mapping is validated as a whole. A required mapping cannot be disabled (422 /enabled); ' +
          'a mapping that belongs to an integration keeps its name (422 /name).',
        tags,
        security: storeSecurity,
        params: MappingParams,
        body: UpdateBody,
        response: { 200: MappingBody, ...errorResponses },
      },
    },
    async function updateMapping(req) {
      const storeId = storeOf(req).id;
      // The given fields are merged onto the mapping as stored, and written only if it is still
      // that version: otherwise (another edit, an integration refresh, another process between
      // the read and the write) the merge is made again onto the newer one, so neither change
      // silently undoes the other.
      const updated = await untilUnchanged(async () => {
        const existing = await mappings.load(storeId, req.params.mapping_id);
        const fields = parse(req.body, existing);
        checkEndpointUrl(ctx.urlPolicy, fields.url, existing.url);
        checkMappingCaps(ctx.mappingCaps, fields.options, existing.options);
        await checkRename(ctx, existing, fields);
        return unlessNameTaken(() =>
          ctx.storage.updateMapping(storeId, existing.id, fields, Date.now(), existing.version),
        );
      });
      const mapping = mappings.written(updated);
      ctx.onMappingsChanged?.(storeId);
      return presentMapping(mapping);
    },
  );
}

/** A new name is refused for an integration's mapping, and when another mapping has it. */
async function checkRename(ctx: AppContext, existing: Mapping, fields: MappingFields): Promise<void> {
  if (fields.name === existing.name) return;
  // an integration finds its service's mapping by name (refresh, export and apply too)
  if (existing.integration_id !== null)
    throw invalid({
      '/name': [
        `is ${existing.name} for good: the mapping belongs to an integration, which knows it by that name`,
      ],
    });
  const other = await ctx.storage.findMappingByName(existing.store_id, fields.name);
  if (other && other.id !== existing.id) throw nameTaken();
}

function registerDelete(app: App, ctx: AppContext, mappings: ItemAccess<Mapping>) {
  app.delete(
    '/api/stores/:store_id/mappings/:mapping_id',
    {
      schema: {
        summary: 'Delete a mapping',
        description: 'A required mapping cannot be deleted (422 /required): set required to false first.',
        tags,
        security: storeSecurity,
        params: MappingParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async function deleteMapping(req, reply) {
      const storeId = storeOf(req).id;
      const existing = await mappings.load(storeId, req.params.mapping_id);
      if (existing.required) {
        throw invalid({
          '/required': ['a required mapping cannot be deleted; set required to false first'],
        });
      }
      await mappings.remove(storeId, existing);
      ctx.onMappingsChanged?.(storeId);
      reply.code(204).send(null);
    },
  );
}
