import { Type } from 'typebox';
import { invalid } from '../../errors.js';
import { newId } from '../../ids.js';
import {
  DATA_TYPES,
  PARAMETER_LIMITS,
  type ParameterFields,
  parseParameter,
} from '../../pipeline/parameter-validation.js';
import type { Parameter } from '../../storage/delivery-contract.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { iso, parseStored } from '../present.js';
import { errorResponses, StoreParams, storeSecurity } from '../schemas.js';
import { byIdOrName, type ItemAccess, itemParams } from './by-id-or-name.js';

const DataTypeSchema = Type.String({
  enum: [...DATA_TYPES],
  description:
    'When absent on create: list for an array, boolean, integer or float for a number, else string',
});
const Value = Type.Unknown({
  description: 'JSON of the data_type: string, integer, number, true/false, or an array of objects (list)',
  examples: ['abc123', 42, [{ standard: 'US STANDARD', nextday: 'OVERNIGHT' }]],
});

const ParameterInput = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: PARAMETER_LIMITS.nameLength,
      pattern: '^[A-Za-z0-9_.\\-:]+$',
      examples: ['mandrill.api_key'],
    }),
    value: Value,
    data_type: Type.Optional(DataTypeSchema),
  },
  { additionalProperties: false },
);
const CreateBody = Type.Union([ParameterInput, Type.Object({ parameter: ParameterInput })], {
  'x-manual-validation': true,
  description: 'A parameter, bare or wrapped as {"parameter": {…}}',
});
const UpdateInput = Type.Partial(ParameterInput);
const UpdateBody = Type.Union([UpdateInput, Type.Object({ parameter: UpdateInput })], {
  'x-manual-validation': true,
  description:
    'value and/or data_type; the stored data_type stays unless one is sent. The name cannot change.',
});

export const ParameterBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  value: Value,
  data_type: DataTypeSchema,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const ItemParams = itemParams('parameter', 'The parameter id or its name (e.g. mandrill.api_key)');

export function presentParameter(p: Parameter) {
  return {
    id: p.id,
    name: p.name,
    value: parseStored(p.value),
    data_type: p.data_type,
    created_at: iso(p.created_at)!,
    updated_at: iso(p.updated_at)!,
  };
}

/**
 * Store parameters CRUD (docs/parameters.md#parameters-api). Values are stored as JSON text and
 * answered as JSON. Delivery reads parameters when it builds each request, so nothing is told
 * about a change.
 */
export function parameterRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    const parameters = byIdOrName<Parameter>({
      notFound: 'PARAMETER_NOT_FOUND',
      find: (storeId, idOrName) => ctx.storage.getParameter(storeId, idOrName),
      remove: (storeId, id) => ctx.storage.deleteParameter(storeId, id),
    });
    registerList(app, ctx);
    registerCreate(app, ctx);
    registerGet(app, parameters);
    registerUpdate(app, ctx, parameters);
    registerDelete(app, parameters);
  };
}

const tags = ['parameters'];

function parse(body: unknown, base?: Parameter): ParameterFields {
  const parsed = parseParameter(body, base);
  if (!parsed.ok) throw invalid(parsed.errors);
  return parsed.fields;
}

function registerList(app: App, ctx: AppContext) {
  app.get(
    '/api/stores/:store_id/parameters',
    {
      schema: {
        summary: "The store's parameters, by name",
        tags,
        security: storeSecurity,
        params: StoreParams,
        response: { 200: Type.Array(ParameterBody), ...errorResponses },
      },
    },
    async function listParameters(req) {
      const all = await ctx.storage.listParameters(storeOf(req).id);
      // Code-unit order, as SQLite compares: a PostgreSQL locale collation would reorder `.`/`_`.
      return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(presentParameter);
    },
  );
}

function registerCreate(app: App, ctx: AppContext) {
  app.post(
    '/api/stores/:store_id/parameters',
    {
      schema: {
        summary: 'Create a parameter',
        description: 'Unknown fields are rejected; the value must match data_type (no coercion).',
        tags,
        security: storeSecurity,
        params: StoreParams,
        body: CreateBody,
        response: { 201: ParameterBody, ...errorResponses },
      },
    },
    async function createParameter(req, reply) {
      const storeId = storeOf(req).id;
      const fields = parse(req.body);
      // putParameter upserts by name, so this check is what makes POST create-only; two racing
      // creates of one name can both pass it, and then the later value wins.
      if (await ctx.storage.getParameter(storeId, fields.name)) {
        throw invalid({ '/name': ['is already taken'] });
      }
      const now = Date.now();
      const created = await ctx.storage.putParameter({
        id: newId(),
        store_id: storeId,
        name: fields.name,
        value: JSON.stringify(fields.value),
        data_type: fields.data_type,
        created_at: now,
        updated_at: now,
      });
      return reply.code(201).send(presentParameter(created));
    },
  );
}

function registerGet(app: App, parameters: ItemAccess<Parameter>) {
  app.get(
    '/api/stores/:store_id/parameters/:parameter',
    {
      schema: {
        summary: 'One parameter, by id or by name',
        tags,
        security: storeSecurity,
        params: ItemParams,
        response: { 200: ParameterBody, ...errorResponses },
      },
    },
    async function getParameter(req) {
      return presentParameter(await parameters.load(storeOf(req).id, req.params.parameter));
    },
  );
}

function registerUpdate(app: App, ctx: AppContext, parameters: ItemAccess<Parameter>) {
  app.put(
    '/api/stores/:store_id/parameters/:parameter',
    {
      schema: {
        summary: 'Update a parameter (value and/or data_type), by id or by name',
        description:
          'Sending only data_type re-checks the stored value against it ' +
          '(422 /data_type when it does not fit).',
        tags,
        security: storeSecurity,
        params: ItemParams,
        body: UpdateBody,
        response: { 200: ParameterBody, ...errorResponses },
      },
    },
    async function updateParameter(req) {
      const storeId = storeOf(req).id;
      const existing = await parameters.load(storeId, req.params.parameter);
      const fields = parse(req.body, existing);
      const updated = await ctx.storage.putParameter({
        ...existing,
        value: JSON.stringify(fields.value),
        data_type: fields.data_type,
        updated_at: Date.now(),
      });
      return presentParameter(updated);
    },
  );
}

function registerDelete(app: App, parameters: ItemAccess<Parameter>) {
  app.delete(
    '/api/stores/:store_id/parameters/:parameter',
    {
      schema: {
        summary: 'Delete a parameter, by id or by name',
        tags,
        security: storeSecurity,
        params: ItemParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async function deleteParameter(req, reply) {
      const storeId = storeOf(req).id;
      await parameters.remove(storeId, await parameters.load(storeId, req.params.parameter));
      reply.code(204).send(null);
    },
  );
}
