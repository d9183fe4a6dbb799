import { Cron } from 'croner';
import type { Logger } from 'pino';
import { newId } from '../ids.js';
import type { Storage } from '../storage/contract.js';
import type { Scheduler, SchedulerFields, SchedulerTick } from '../storage/integration-contract.js';

/**
 * Store schedulers (docs/integrations.md#how-ticks-fire): each tick pushes one message
 * `{message: key, payload}` into the incoming queue with origin `scheduler`, where intake validates and
 * routes it like any other.
 *
 * The schedule:
 * - an interval scheduler ticks on a fixed grid: created (or re-enabled, or re-timed) at t, it is
 *   due at t + interval, t + 2·interval …; a cron scheduler is due at the expression's times (UTC);
 * - catch-up rule: when a tick fires late (the hub was down, or busy), it fires once, and the next
 *   due time is the first grid/cron time after now. A hub that was down for an hour does not push
 *   an hour of missed polls on restart, only one, and stays on its grid afterwards;
 * - claiming and pushing happen in one transaction (Storage.fireSchedulers), so with any number of
 *   hub processes on one database each tick is pushed exactly once.
 */

export const SCHEDULER_BATCH = 100;

const crons = new Map<string, Cron>();

function cronFor(expression: string): Cron {
  let job = crons.get(expression);
  if (!job) {
    job = new Cron(expression, { paused: true, timezone: 'UTC' });
    if (crons.size > 1000) crons.clear();
    crons.set(expression, job);
  }
  return job;
}

/** The first time a cron expression fires strictly after `now`, or null if it never will again. */
function nextCron(expression: string, now: number): number | null {
  return cronFor(expression).nextRun(new Date(now))?.getTime() ?? null;
}

/** When a scheduler that has just been created, re-enabled or re-timed at `now` is first due. */
export function firstTick(s: Pick<SchedulerFields, 'interval' | 'cron'>, now: number): number | null {
  if (s.interval !== null) return now + s.interval * 1000;
  return s.cron === null ? null : nextCron(s.cron, now);
}

/** The due time after a tick that fired at `now` (due at `s.next_run_at`): the first one after now. */
export function nextTick(
  s: Pick<Scheduler, 'interval' | 'cron' | 'next_run_at'>,
  now: number,
): number | null {
  if (s.interval !== null) {
    const step = s.interval * 1000;
    const due = s.next_run_at ?? now;
    if (due > now) return due;
    return due + (Math.floor((now - due) / step) + 1) * step;
  }
  return s.cron === null ? null : nextCron(s.cron, now);
}

/** The scheduler worker's step: fire what is due, tell intake when something was pushed. */
export class SchedulerRunner {
  constructor(
    private readonly storage: Storage,
    private readonly onFired: () => void,
    private readonly log?: Logger,
  ) {}

  async step(now = Date.now()): Promise<number> {
    const ticks = await this.storage.fireSchedulers(now, SCHEDULER_BATCH, (due) =>
      due.map((s) => this.tick(s, now)),
    );
    if (ticks.some((t) => t.message)) this.onFired();
    return ticks.length;
  }

  private tick(s: Scheduler, now: number): SchedulerTick {
    let next: number | null;
    try {
      next = nextTick(s, now);
    } catch (err) {
      // validated when saved, so only a croner upgrade that tightened its rules gets here
      this.log?.error({ err, scheduler_id: s.id, cron: s.cron }, 'scheduler cron does not parse; stopped');
      return { id: s.id, next_run_at: null, message: null };
    }
    return {
      id: s.id,
      next_run_at: next,
      message: {
        id: newId(),
        store_id: s.store_id,
        message: s.key,
        payload: JSON.stringify(s.payload),
        extra: null,
        origin: 'scheduler',
        parent_id: null,
        depth: 0,
        created_at: now,
      },
    };
  }
}
