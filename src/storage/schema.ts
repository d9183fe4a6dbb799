import type { MessageRecord, Store, StoreSchema, StoreToken } from './contract.js';
import type { AttemptRecord, NotificationRecord, Parameter } from './delivery-contract.js';

/**
 * Kysely's view of the tables (migration-list.ts creates exactly these columns). Where a row is
 * what the contract hands out, the table is typed with the contract's record, so each shape is
 * written once; the mappings, integrations and schedulers tables hold JSON as text and flags as
 * 0/1, so their rows are their own types, turned into records by sql-mappings.ts and its siblings.
 */
export interface DB {
  stores: Store;
  store_tokens: StoreToken;
  /** A message record and the columns only the delivery queries read (leases, ordering, polling). */
  messages: MessageRecord & {
    lease_owner: string | null;
    lease_expires_at: number | null;
    ordering_key: string | null;
    update_url: string | null;
  };
  message_types_seen: { store_id: string; message: string };
  idempotency_keys: {
    store_id: string;
    key: string;
    message_id: string;
    response: string;
    created_at: number;
  };
  identifier_keys: { mapping_id: string; key: string; message_id: string; expires_at: number };
  store_schemas: StoreSchema;
  /** JSON columns (messages, filters, identifiers, parameters, options) hold text; flags are 0/1. */
  mappings: {
    id: string;
    store_id: string;
    name: string;
    url: string;
    token: string;
    messages: string;
    filters: string;
    identifiers: string;
    parameters: string | null;
    options: string;
    enabled: number;
    required: number;
    integration_id: string | null;
    created_at: number;
    updated_at: number;
    version: number;
  };
  mapping_set_versions: { store_id: string; version: number };
  attempts: AttemptRecord;
  notifications: NotificationRecord;
  parameters: Parameter;
  /** services, error_messages and warnings are JSON text (migration 0004). */
  integrations: {
    id: string;
    store_id: string;
    name: string;
    url: string;
    token: string;
    category: string;
    status: 'pending' | 'ready';
    display: string | null;
    description: string | null;
    icon_url: string | null;
    help: string | null;
    services: string;
    error_messages: string | null;
    warnings: string;
    refreshed_at: number | null;
    created_at: number;
    updated_at: number;
  };
  /** payload is JSON text; exactly one of interval_seconds and cron is set (migration 0004). */
  schedulers: {
    id: string;
    store_id: string;
    name: string;
    key: string;
    interval_seconds: number | null;
    cron: string | null;
    payload: string;
    enabled: number;
    next_run_at: number | null;
    last_run_at: number | null;
    created_at: number;
    updated_at: number;
  };
}
