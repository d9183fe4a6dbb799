import { Cron } from 'croner';
import { FieldErrorList, type FieldErrors } from '../errors.js';
import { looksLikeId } from '../ids.js';
import type { SchedulerFields } from '../storage/integration-contract.js';
import { checkMessageType } from './envelope.js';
import { isObject, type Json, resourceObject } from './resource-body.js';

/**
 * Validation of a scheduler as a client writes it (docs/integrations.md#schedulers). Pointers are
 * relative to the scheduler object, bare or wrapped in `{"scheduler": …}`.
 *
 * Decisions:
 * - exactly one of `interval` (whole seconds, ≥ 1) and `cron` (croner's dialect: 5 fields, or 6
 *   with seconds first, nicknames such as @hourly; evaluated in UTC) is set. On update, sending one
 *   clears the other, so switching from interval to cron is one PUT;
 * - `name` defaults to `key` (the original's schedulers had no name; configuration as code needs
 *   one to key them by), and is unique in the store;
 * - `payload` is checked against the message library by the route (a scheduler pushing an invalid
 *   message would fill the archive with `invalid` messages, once per tick);
 * - `count`, a field of the original's schedulers with no documented meaning, is accepted and
 *   ignored, so the original's client can still save one.
 */

export const SCHEDULER_LIMITS = {
  nameLength: 200,
  cronLength: 200,
  maxInterval: 366 * 24 * 60 * 60,
  payloadBytes: 64 * 1024,
};

const NAME = /^[A-Za-z0-9_.:-]+$/;
/** The fields a scheduler body may set. */
export const SCHEDULER_FIELDS = ['name', 'key', 'interval', 'cron', 'payload', 'enabled'] as const;
const FIELDS: readonly string[] = SCHEDULER_FIELDS;
export const IGNORED = ['id', 'store_id', 'next_run_at', 'last_run_at', 'created_at', 'updated_at', 'count'];

export type SchedulerParse = { ok: true; fields: SchedulerFields } | { ok: false; errors: FieldErrors };

/** Why a cron expression is unusable, or null. */
export function cronProblem(expression: string): string | null {
  try {
    const job = new Cron(expression, { paused: true, timezone: 'UTC' });
    if (job.nextRun() === null) return 'never fires';
    return null;
  } catch (err) {
    // croner searches for the next date recursively: for a date that never comes (31 February) it
    // runs out of stack instead of answering null
    if (err instanceof RangeError) return 'never fires (no date matches it)';
    return `is not a valid cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}`;
  }
}

export function parseScheduler(body: unknown, base?: SchedulerFields): SchedulerParse {
  const errors = new FieldErrorList();
  const input = resourceObject(body, 'scheduler', [...FIELDS, ...IGNORED], errors);
  if (!input) return { ok: false, errors: errors.errors };
  const raw: Json = base ? { ...base } : {};
  for (const key of FIELDS) if (key in input) raw[key] = input[key];
  if (base && 'interval' in input && input.interval !== null && !('cron' in input)) raw.cron = null;
  if (base && 'cron' in input && input.cron !== null && !('interval' in input)) raw.interval = null;

  const keyProblem = raw.key === undefined || raw.key === null ? 'is required' : checkMessageType(raw.key);
  if (keyProblem) errors.add('/key', keyProblem);

  let name = raw.name ?? (keyProblem ? undefined : raw.key);
  if (name !== undefined) {
    if (typeof name !== 'string' || name === '') errors.add('/name', 'must be a non-empty string');
    else if (name.length > SCHEDULER_LIMITS.nameLength) {
      errors.add('/name', `must be at most ${SCHEDULER_LIMITS.nameLength} characters`);
    } else if (!NAME.test(name)) errors.add('/name', 'may contain only letters, digits and _ . : -');
    else if (looksLikeId(name.toLowerCase()))
      errors.add('/name', 'must not have the shape of an id (a UUID)');
  } else name = '';

  const interval = raw.interval ?? null;
  const cron = raw.cron ?? null;
  if (interval === null && cron === null)
    errors.add('/interval', 'is required (seconds), or give cron instead');
  if (interval !== null && cron !== null) errors.add('/cron', 'give either interval or cron, not both');
  if (interval !== null) {
    if (
      !Number.isInteger(interval) ||
      (interval as number) < 1 ||
      (interval as number) > SCHEDULER_LIMITS.maxInterval
    ) {
      errors.add('/interval', `must be a whole number of seconds from 1 to ${SCHEDULER_LIMITS.maxInterval}`);
    }
  }
  if (cron !== null) {
    if (typeof cron !== 'string' || cron.trim() === '') errors.add('/cron', 'must be a cron expression');
    else if (cron.length > SCHEDULER_LIMITS.cronLength) {
      errors.add('/cron', `must be at most ${SCHEDULER_LIMITS.cronLength} characters`);
    } else {
      const problem = cronProblem(cron);
      if (problem) errors.add('/cron', problem);
    }
  }

  const payload = raw.payload ?? {};
  if (!isObject(payload)) errors.add('/payload', 'must be an object');
  else if (JSON.stringify(payload).length > SCHEDULER_LIMITS.payloadBytes) {
    errors.add('/payload', `must be at most ${SCHEDULER_LIMITS.payloadBytes / 1024} KiB of JSON`);
  }
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== 'boolean') errors.add('/enabled', 'must be true or false');

  if (!errors.empty) return { ok: false, errors: errors.errors };
  return {
    ok: true,
    fields: {
      name: name as string,
      key: raw.key as string,
      interval: interval as number | null,
      cron: typeof cron === 'string' ? cron.trim() : null,
      payload: payload as Json,
      enabled: enabled as boolean,
    },
  };
}
