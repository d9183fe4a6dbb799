import type { MessageState, Origin, QueueName } from './contract.js';

/** Kysely's view of the tables. Both dialects' migrations create exactly these columns. */
export interface DB {
  stores: { id: string; name: string; created_at: number };
  store_tokens: {
    id: string;
    store_id: string;
    token_hash: string;
    hint: string;
    created_at: number;
    revoked_at: number | null;
  };
  messages: {
    id: string;
    store_id: string;
    message: string;
    payload: string;
    extra: string | null;
    queue_name: QueueName;
    state: MessageState;
    source: 'incoming' | 'accepted' | null;
    origin: Origin;
    parent_id: string | null;
    mapping_id: string | null;
    consumer: string | null;
    depth: number;
    attempts: number;
    created_at: number;
    attempt_at: number | null;
    completed_at: number | null;
    locked_at: number | null;
    lease_owner: string | null;
    lease_expires_at: number | null;
    ordering_key: string | null;
    last_error: string | null;
    reason: string | null;
    result: string | null;
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
  store_schemas: { store_id: string; message: string; schema: string; version: number; updated_at: number };
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
  attempts: {
    id: string;
    message_id: string;
    store_id: string;
    attempted_at: number;
    duration_ms: number;
    url: string;
    status_code: number | null;
    error: string | null;
    response_excerpt: string | null;
  };
  notifications: {
    id: string;
    store_id: string;
    message_id: string;
    fingerprint: string;
    level: 'info' | 'warn' | 'error';
    subject: string;
    description: string | null;
    reference_type: string | null;
    reference_id: string | null;
    reference_token: string | null;
    origin: string | null;
    attributes: string | null;
    occurrences: number;
    logged_on: number;
    last_update: number;
  };
  parameters: {
    id: string;
    store_id: string;
    name: string;
    value: string;
    data_type: 'string' | 'integer' | 'float' | 'boolean' | 'list';
    created_at: number;
    updated_at: number;
  };
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
