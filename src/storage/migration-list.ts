import type { SqlMigrations } from './migrations.js';

/**
 * The schema's migrations, written once for both databases: `time` is the column type of epoch
 * milliseconds, INTEGER on SQLite (64-bit already) and BIGINT on PostgreSQL; nothing else differs.
 * Append only: never edit, rename or reorder an entry that has shipped, since every database
 * records the names it applied (switchyard_migrations), and test/storage/migration-list.test.ts
 * pins each shipped entry's text for both databases.
 */
export function migrationList(time: 'INTEGER' | 'BIGINT'): SqlMigrations {
  return [
    [
      '0001_core',
      [
        `CREATE TABLE stores (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at ${time} NOT NULL)`,
        `CREATE TABLE store_tokens (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        created_at ${time} NOT NULL,
        revoked_at ${time}
      )`,
        `CREATE INDEX store_tokens_store ON store_tokens (store_id)`,
        `CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL,
        message TEXT NOT NULL,
        payload TEXT NOT NULL,
        extra TEXT,
        queue_name TEXT NOT NULL,
        state TEXT NOT NULL,
        source TEXT,
        origin TEXT NOT NULL,
        parent_id TEXT,
        mapping_id TEXT,
        consumer TEXT,
        depth INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at ${time} NOT NULL,
        attempt_at ${time},
        completed_at ${time},
        locked_at ${time},
        lease_owner TEXT,
        lease_expires_at ${time},
        ordering_key TEXT,
        last_error TEXT,
        reason TEXT,
        result TEXT
      )`,
        `CREATE INDEX messages_store_queue ON messages (store_id, queue_name, id)`,
        `CREATE INDEX messages_store_type ON messages (store_id, message, id)`,
        `CREATE INDEX messages_parent ON messages (parent_id) WHERE parent_id IS NOT NULL`,
        `CREATE INDEX messages_mapping ON messages (mapping_id, id) WHERE mapping_id IS NOT NULL`,
        `CREATE INDEX messages_incoming_work ON messages (id) WHERE queue_name = 'incoming'`,
        `CREATE INDEX messages_accepted_work ON messages (attempt_at)
        WHERE queue_name = 'accepted' AND state IN ('pending', 'failing', 'scheduled')`,
        `CREATE INDEX messages_leases ON messages (lease_expires_at) WHERE state = 'running'`,
        `CREATE TABLE message_types_seen (store_id TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (store_id, message))`,
        `CREATE TABLE idempotency_keys (
        store_id TEXT NOT NULL,
        key TEXT NOT NULL,
        message_id TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at ${time} NOT NULL,
        PRIMARY KEY (store_id, key)
      )`,
        `CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at)`,
        `CREATE TABLE identifier_keys (
        mapping_id TEXT NOT NULL,
        key TEXT NOT NULL,
        message_id TEXT NOT NULL,
        expires_at ${time} NOT NULL,
        PRIMARY KEY (mapping_id, key)
      )`,
        `CREATE TABLE store_schemas (
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        message TEXT NOT NULL,
        schema TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at ${time} NOT NULL,
        PRIMARY KEY (store_id, message)
      )`,
      ],
    ],
    [
      '0002_mappings',
      [
        `CREATE TABLE mappings (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        token TEXT NOT NULL,
        messages TEXT NOT NULL,
        filters TEXT NOT NULL,
        identifiers TEXT NOT NULL,
        parameters TEXT,
        options TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        required INTEGER NOT NULL,
        integration_id TEXT,
        created_at ${time} NOT NULL,
        updated_at ${time} NOT NULL,
        version INTEGER NOT NULL,
        UNIQUE (store_id, name)
      )`,
        `CREATE INDEX mappings_integration ON mappings (integration_id) WHERE integration_id IS NOT NULL`,
        `CREATE TABLE mapping_set_versions (
        store_id TEXT PRIMARY KEY REFERENCES stores(id) ON DELETE CASCADE,
        version INTEGER NOT NULL
      )`,
      ],
    ],
    [
      '0003_delivery',
      [
        `ALTER TABLE messages ADD COLUMN update_url TEXT`,
        `CREATE INDEX messages_ordering ON messages (mapping_id, ordering_key, id)
        WHERE queue_name = 'accepted' AND ordering_key IS NOT NULL`,
        `CREATE TABLE attempts (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL,
        store_id TEXT NOT NULL,
        attempted_at ${time} NOT NULL,
        duration_ms INTEGER NOT NULL,
        url TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        response_excerpt TEXT
      )`,
        `CREATE INDEX attempts_message ON attempts (message_id, attempted_at)`,
        `CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        level TEXT NOT NULL,
        subject TEXT NOT NULL,
        description TEXT,
        reference_type TEXT,
        reference_id TEXT,
        reference_token TEXT,
        origin TEXT,
        attributes TEXT,
        occurrences INTEGER NOT NULL,
        logged_on ${time} NOT NULL,
        last_update ${time} NOT NULL,
        UNIQUE (message_id, fingerprint)
      )`,
        `CREATE INDEX notifications_store ON notifications (store_id, id)`,
        `CREATE TABLE parameters (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        data_type TEXT NOT NULL,
        created_at ${time} NOT NULL,
        updated_at ${time} NOT NULL,
        UNIQUE (store_id, name)
      )`,
      ],
    ],
    [
      '0004_integrations_schedulers',
      [
        `CREATE TABLE integrations (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        token TEXT NOT NULL,
        category TEXT NOT NULL,
        status TEXT NOT NULL,
        display TEXT,
        description TEXT,
        icon_url TEXT,
        help TEXT,
        services TEXT NOT NULL,
        error_messages TEXT,
        warnings TEXT NOT NULL,
        refreshed_at ${time},
        created_at ${time} NOT NULL,
        updated_at ${time} NOT NULL,
        UNIQUE (store_id, name)
      )`,
        `CREATE TABLE schedulers (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        interval_seconds INTEGER,
        cron TEXT,
        payload TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        next_run_at ${time},
        last_run_at ${time},
        created_at ${time} NOT NULL,
        updated_at ${time} NOT NULL,
        UNIQUE (store_id, name)
      )`,
        `CREATE INDEX schedulers_due ON schedulers (next_run_at) WHERE enabled = 1`,
      ],
    ],
    [
      // the lease that skips saturated mappings seeks each other mapping's due copies here instead of
      // walking past the saturated ones' backlog in messages_accepted_work (sql-delivery.ts).
      // IF NOT EXISTS: on a large database it may be built beforehand without blocking writes
      // (PostgreSQL: CREATE INDEX CONCURRENTLY; docs/storage.md)
      '0005_due_by_mapping',
      [
        `CREATE INDEX IF NOT EXISTS messages_due_mapping ON messages (mapping_id, attempt_at)
        WHERE queue_name = 'accepted' AND state IN ('pending', 'failing', 'scheduled')`,
      ],
    ],
    [
      // a store's own rate limits (JSON), set through the admin API; null: the hub's settings
      '0006_store_limits',
      ['ALTER TABLE stores ADD COLUMN limits TEXT'],
    ],
  ];
}
