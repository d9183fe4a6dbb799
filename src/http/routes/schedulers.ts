import { Type } from 'typebox';
import { invalid } from '../../errors.js';
import { newId } from '../../ids.js';
import { issuesToFieldErrors } from '../../pipeline/message-validation.js';
import { firstTick } from '../../pipeline/scheduler.js';
import { parseScheduler, SCHEDULER_LIMITS } from '../../pipeline/scheduler-validation.js';
import {
  type Scheduler,
  type SchedulerFields,
  SchedulerNameTaken,
} from '../../storage/integration-contract.js';
import type { App, AppContext } from '../app.js';
import { requireStore, storeOf } from '../guards.js';
import { iso } from '../present.js';
import { errorResponses, JsonObject, StoreParams, storeSecurity, Timestamp } from '../schemas.js';
import { byIdOrName, type ItemAccess, itemParams } from './by-id-or-name.js';

const Fields = {
  name: Type.String({ description: 'Unique in the store; defaults to key', examples: ['orders-poll'] }),
  key: Type.String({ description: 'The message type each tick pushes', examples: ['spree:order:poll'] }),
  interval: Type.Union([Type.Integer({ minimum: 1, maximum: SCHEDULER_LIMITS.maxInterval }), Type.Null()], {
    description: 'Seconds between ticks (or give cron)',
  }),
  cron: Type.Union([Type.String({ examples: ['*/5 * * * *'] }), Type.Null()], {
    description: 'A cron expression, evaluated in UTC (or give interval)',
  }),
  payload: JsonObject,
  enabled: Type.Boolean({ default: true }),
};
const Input = Type.Partial(Type.Object(Fields, { additionalProperties: false }));
const Body = Type.Union([Input, Type.Object({ scheduler: Input })], {
  'x-manual-validation': true,
  description: 'Bare or wrapped as {"scheduler": {…}}; exactly one of interval and cron',
});

const SchedulerBody = Type.Object({
  id: Type.String(),
  store_id: Type.String(),
  ...Fields,
  next_run_at: Timestamp,
  last_run_at: Timestamp,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const ItemParams = itemParams('scheduler', 'The scheduler id or its name');

function present(s: Scheduler) {
  return {
    ...s,
    next_run_at: iso(s.next_run_at),
    last_run_at: iso(s.last_run_at),
    created_at: iso(s.created_at)!,
    updated_at: iso(s.updated_at)!,
  };
}

const nameTaken = () =>
  invalid({ '/name': ['is already used by another scheduler in this store (give this one a name)'] });

/**
 * Schedulers CRUD (docs/integrations.md#schedulers). Due times are computed here on every change
 * and then moved on by the scheduler worker (pipeline/scheduler.ts), which fires the ticks.
 */
export function schedulerRoutes(ctx: AppContext) {
  return async (app: App) => {
    app.addHook('preHandler', requireStore(ctx));
    const schedulers = byIdOrName<Scheduler>({
      notFound: 'SCHEDULER_NOT_FOUND',
      find: (storeId, idOrName) => ctx.storage.getScheduler(storeId, idOrName),
      remove: (storeId, id) => ctx.storage.deleteScheduler(storeId, id),
    });
    registerList(app, ctx);
    registerCreate(app, ctx);
    registerGet(app, schedulers);
    registerUpdate(app, ctx, schedulers);
    registerDelete(app, schedulers);
  };
}

const tags = ['schedulers'];

/** The fields of a valid body, its payload checked against the key's schema in the message library. */
async function parse(ctx: AppContext, storeId: string, body: unknown, base?: SchedulerFields) {
  const parsed = parseScheduler(body, base);
  if (!parsed.ok) throw invalid(parsed.errors);
  const f = parsed.fields;
  const issues = await ctx.validator.validate(storeId, f.key, f.payload);
  if (issues.length > 0) throw invalid(issuesToFieldErrors(issues));
  return f;
}

/** A write, with the name clash storage found (another writer took the name meanwhile) as the 422. */
async function unlessNameTaken<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof SchedulerNameTaken) throw nameTaken();
    throw err;
  }
}

function registerList(app: App, ctx: AppContext) {
  app.get(
    '/api/stores/:store_id/schedulers',
    {
      schema: {
        summary: "The store's schedulers, by name",
        tags,
        security: storeSecurity,
        params: StoreParams,
        response: { 200: Type.Array(SchedulerBody), ...errorResponses },
      },
    },
    async function listSchedulers(req) {
      return (await ctx.storage.listSchedulers(storeOf(req).id)).map(present);
    },
  );
}

function registerCreate(app: App, ctx: AppContext) {
  app.post(
    '/api/stores/:store_id/schedulers',
    {
      schema: {
        summary: 'Create a scheduler',
        description: 'The payload must be valid for the key in the message library (422 otherwise).',
        tags,
        security: storeSecurity,
        params: StoreParams,
        body: Body,
        response: { 201: SchedulerBody, ...errorResponses },
      },
    },
    async function createScheduler(req, reply) {
      const storeId = storeOf(req).id;
      const fields = await parse(ctx, storeId, req.body);
      if (await ctx.storage.getScheduler(storeId, fields.name)) throw nameTaken();
      const now = Date.now();
      const created = await unlessNameTaken(() =>
        ctx.storage.createScheduler({
          ...fields,
          id: newId(),
          store_id: storeId,
          next_run_at: fields.enabled ? firstTick(fields, now) : null,
          last_run_at: null,
          created_at: now,
          updated_at: now,
        }),
      );
      return reply.code(201).send(present(created));
    },
  );
}

function registerGet(app: App, schedulers: ItemAccess<Scheduler>) {
  app.get(
    '/api/stores/:store_id/schedulers/:scheduler',
    {
      schema: {
        summary: 'One scheduler, by id or by name',
        tags,
        security: storeSecurity,
        params: ItemParams,
        response: { 200: SchedulerBody, ...errorResponses },
      },
    },
    async function getScheduler(req) {
      return present(await schedulers.load(storeOf(req).id, req.params.scheduler));
    },
  );
}

function registerUpdate(app: App, ctx: AppContext, schedulers: ItemAccess<Scheduler>) {
  app.put(
    '/api/stores/:store_id/schedulers/:scheduler',
    {
      schema: {
        summary: 'Update a scheduler (partial: given fields replace the stored ones)',
        description:
          'Sending interval clears cron and the other way round. A new schedule, or enabling, ' +
          'restarts the timing from now.',
        tags,
        security: storeSecurity,
        params: ItemParams,
        body: Body,
        response: { 200: SchedulerBody, ...errorResponses },
      },
    },
    async function updateScheduler(req) {
      const storeId = storeOf(req).id;
      const existing = await schedulers.load(storeId, req.params.scheduler);
      const fields = await parse(ctx, storeId, req.body, existing);
      if (fields.name !== existing.name) {
        const other = await ctx.storage.getScheduler(storeId, fields.name);
        if (other && other.id !== existing.id) throw nameTaken();
      }
      const now = Date.now();
      const retimed =
        fields.interval !== existing.interval || fields.cron !== existing.cron || !existing.enabled;
      const next_run_at = !fields.enabled ? null : retimed ? firstTick(fields, now) : existing.next_run_at;
      // unchanged timing: the stored due time stays, whatever a tick did since `existing` was read
      const updated = await unlessNameTaken(() =>
        ctx.storage.updateScheduler(
          { ...existing, ...fields, next_run_at, updated_at: now },
          fields.enabled && !retimed,
        ),
      );
      return present(schedulers.written(updated));
    },
  );
}

function registerDelete(app: App, schedulers: ItemAccess<Scheduler>) {
  app.delete(
    '/api/stores/:store_id/schedulers/:scheduler',
    {
      schema: {
        summary: 'Delete a scheduler',
        tags,
        security: storeSecurity,
        params: ItemParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async function deleteScheduler(req, reply) {
      const storeId = storeOf(req).id;
      await schedulers.remove(storeId, await schedulers.load(storeId, req.params.scheduler));
      reply.code(204).send(null);
    },
  );
}
