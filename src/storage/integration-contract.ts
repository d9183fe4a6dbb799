import type { NewIncoming } from './contract.js';
import type { DataType, Parameter } from './delivery-contract.js';
import type { FilterSpec, Mapping, MappingFields, MappingOptions } from './mapping-contract.js';

/**
 * Integrations and schedulers (docs/design.md#integrations, docs/design.md#schedulers) as storage
 * sees them. Both are stored already validated
 * and normalised (pipeline/integrations/*, pipeline/scheduler-validation.ts); times are epoch ms.
 *
 * An integration's life:
 *
 *   create ──fetch endpoint.json──► ready   (services loaded; error_messages null)
 *      │                             │  ▲
 *      └──fetch or validation fails──┼──┴── refresh ── pending (error_messages say why; the last
 *                                    ▼                          good services are kept)
 *   signup: one mapping per enabled service, `integration_id` = the integration (ready only)
 *   delete: the integration and its mappings, in one transaction
 */

/** One parameter a service requires, from `requires.parameters[]`; `name` is unprefixed. */
export interface ServiceParameter {
  name: string;
  description: string | null;
  data_type: DataType;
  /** Already of `data_type`, or null for no default. */
  default: unknown;
  /** An array of allowed values, a regular expression, or null. */
  allowed: string[] | string | null;
  optional: boolean;
}

export interface ServiceRecommends {
  messages: string[];
  identifiers: Record<string, string>;
  filters: FilterSpec[];
  options: Partial<MappingOptions>;
}

export interface IntegrationService {
  name: string;
  /** Relative path, always starting with `/`. */
  path: string;
  description: string | null;
  parameters: ServiceParameter[];
  recommends: ServiceRecommends;
}

export type IntegrationStatus = 'pending' | 'ready';

/** The fields a client writes. */
export interface IntegrationFields {
  name: string;
  url: string;
  token: string;
  category: string;
}

/** What endpoint.json said (or why it could not be read). */
export interface IntegrationDescriptor {
  status: IntegrationStatus;
  display: string | null;
  description: string | null;
  icon_url: string | null;
  help: string | null;
  services: IntegrationService[];
  error_messages: string[] | null;
  /** Things worth knowing that do not make the integration pending (e.g. a service that vanished). */
  warnings: string[];
  refreshed_at: number | null;
}

export interface Integration extends IntegrationFields, IntegrationDescriptor {
  id: string;
  store_id: string;
  created_at: number;
  updated_at: number;
}

export class IntegrationNameTaken extends Error {
  override name = 'IntegrationNameTaken';
  constructor(readonly integrationName: string) {
    super(`an integration named ${JSON.stringify(integrationName)} already exists in this store`);
  }
}

/** What a sign-up writes (pipeline/integrations/signup.ts plans it; applySignup writes it). */
export interface SignupWrites {
  parameters: { parameter: Parameter; onlyIfAbsent: boolean }[];
  mappings: (
    | { create: Mapping }
    | { id: string; fields: MappingFields; adopt: boolean; expectedVersion: number }
  )[];
}

export interface IntegrationStorage {
  /** Ordered by name (code-unit order, the same on both backends). */
  listIntegrations(storeId: string): Promise<Integration[]>;
  /** By id or by name. */
  getIntegration(storeId: string, idOrName: string): Promise<Integration | undefined>;
  /** Throws IntegrationNameTaken on a name clash. */
  createIntegration(integration: Integration): Promise<Integration>;
  /** Replaces everything but id, store_id, name and created_at; undefined when it is gone. */
  updateIntegration(integration: Integration): Promise<Integration | undefined>;
  /** Deletes the integration and every mapping it owns (and their identifier keys), atomically. */
  deleteIntegration(storeId: string, id: string): Promise<boolean>;
  /**
   * Writes a sign-up in one transaction, so that a failure leaves nothing half-done: its
   * parameters (a default only where the store has none by then: a value an endpoint stored since
   * the sign-up was planned stays), its new mappings, and its updates of existing ones, each onto
   * the version it was planned from (MappingChanged otherwise; MappingNameTaken on a name clash).
   */
  applySignup(storeId: string, integrationId: string, writes: SignupWrites, now: number): Promise<void>;
  /**
   * Enables or disables every mapping of the integration (a required mapping is never disabled);
   * returns how many changed.
   */
  setIntegrationMappingsEnabled(
    storeId: string,
    integrationId: string,
    enabled: boolean,
    now: number,
  ): Promise<number>;
}

/** The fields a client writes; exactly one of interval / cron is set. */
export interface SchedulerFields {
  name: string;
  /** The message type each tick pushes. */
  key: string;
  /** Seconds between ticks, or null when `cron` is set. */
  interval: number | null;
  /** A cron expression (croner dialect, UTC), or null when `interval` is set. */
  cron: string | null;
  payload: Record<string, unknown>;
  enabled: boolean;
}

export interface Scheduler extends SchedulerFields {
  id: string;
  store_id: string;
  /** When the next tick is due; null when disabled (or a cron with no future run). */
  next_run_at: number | null;
  last_run_at: number | null;
  created_at: number;
  updated_at: number;
}

/** What one claimed tick does: the message it pushes (if any) and when the scheduler is due next. */
export interface SchedulerTick {
  id: string;
  next_run_at: number | null;
  /** null: push nothing (a stored cron expression that no longer parses). */
  message: NewIncoming | null;
}

export class SchedulerNameTaken extends Error {
  override name = 'SchedulerNameTaken';
  constructor(readonly schedulerName: string) {
    super(`a scheduler named ${JSON.stringify(schedulerName)} already exists in this store`);
  }
}

export interface SchedulerStorage {
  listSchedulers(storeId: string): Promise<Scheduler[]>;
  /** By id or by name. */
  getScheduler(storeId: string, idOrName: string): Promise<Scheduler | undefined>;
  /** Throws SchedulerNameTaken on a name clash. */
  createScheduler(scheduler: Scheduler): Promise<Scheduler>;
  /**
   * Replaces the client fields and updated_at, and next_run_at unless `keepTiming`: an edit that
   * leaves the timing alone must not write back a due time it read, which a tick fired since may
   * have moved on (the tick would fire again). Undefined when it is gone.
   */
  updateScheduler(scheduler: Scheduler, keepTiming?: boolean): Promise<Scheduler | undefined>;
  deleteScheduler(storeId: string, id: string): Promise<boolean>;
  /**
   * Fires due schedulers: in one transaction, claims up to `limit` enabled schedulers whose
   * next_run_at ≤ now (one statement; PostgreSQL skips rows another process holds), lets `plan`
   * decide each one's tick, moves next_run_at on and inserts the tick messages into the incoming
   * queue. A tick is therefore pushed exactly once, by whichever process claimed it, or not at all
   * if the transaction fails. Returns the ticks fired.
   */
  fireSchedulers(
    now: number,
    limit: number,
    plan: (due: Scheduler[]) => SchedulerTick[],
  ): Promise<SchedulerTick[]>;
}
