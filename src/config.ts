import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { entryProblem } from './url-policy.js';

export type Role = 'all' | 'api' | 'worker';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  adminToken: string | undefined;
  role: Role;
  /** Largest request body accepted, in bytes (413 above it). */
  bodyLimit: number;
  /** Pushes a second per store, and other store API requests a second per store; 0: unlimited. */
  pushRate: number;
  apiRate: number;
  /** The most a mapping may ask for: `options.concurrency`, and `options.timeout_ms` (ms). */
  mappingMaxConcurrency: number;
  mappingMaxTimeoutMs: number;
  /** HTTP connections open at once; past it a new one is closed (http/connections.ts). */
  maxConnections: number;
  logLevel: LogLevel;
  /** json, pretty, or auto: pretty when stdout is a terminal (src/log-output.ts). */
  logFormat: 'auto' | 'json' | 'pretty';
  sqliteSync: 'full' | 'normal';
  /** Connections per process to PostgreSQL. */
  poolSize: number;
  /** Archived messages older than this are purged. */
  retentionDays: number;
  /** How long a delivery lease holds without a heartbeat (a dead process's messages wait this long). */
  leaseSeconds: number;
  /** Whether endpoints on loopback (127.0.0.0/8, ::1, localhost) are allowed (docs/security.md). */
  endpointLoopback: boolean;
  /** CIDRs, addresses or host names endpoints may use despite the built-in refusals. */
  endpointAllow: string[];
  /** CIDRs, addresses or host names endpoints may not use, on top of the built-in refusals. */
  endpointDeny: string[];
}

export const DEFAULTS: HubConfig = {
  port: 4000,
  host: '127.0.0.1',
  dataDir: './data',
  databaseUrl: undefined,
  adminToken: undefined,
  role: 'all',
  bodyLimit: 1024 * 1024,
  maxConnections: 10_000,
  mappingMaxConcurrency: 64,
  mappingMaxTimeoutMs: 180_000,
  pushRate: 0,
  apiRate: 0,
  logLevel: 'info',
  logFormat: 'auto',
  sqliteSync: 'full',
  poolSize: 10,
  retentionDays: 30,
  leaseSeconds: 30,
  endpointLoopback: true,
  endpointAllow: [],
  endpointDeny: [],
};

export class ConfigError extends Error {}

type Raw = Partial<Record<keyof HubConfig, unknown>>;

/** Where each setting can come from, for error messages: `--port / PORT / port`. */
const SOURCES: Record<keyof HubConfig, { flag?: string; env: string }> = {
  port: { flag: '--port', env: 'PORT' },
  host: { flag: '--host', env: 'HOST' },
  dataDir: { flag: '--data', env: 'SWITCHYARD_DATA_DIR' },
  databaseUrl: { flag: '--database', env: 'DATABASE_URL' },
  adminToken: { flag: '--admin-token', env: 'SWITCHYARD_ADMIN_TOKEN' },
  role: { flag: '--role', env: 'SWITCHYARD_ROLE' },
  bodyLimit: { flag: '--body-limit', env: 'SWITCHYARD_BODY_LIMIT' },
  maxConnections: { flag: '--max-connections', env: 'SWITCHYARD_MAX_CONNECTIONS' },
  mappingMaxConcurrency: { env: 'SWITCHYARD_MAPPING_MAX_CONCURRENCY' },
  mappingMaxTimeoutMs: { env: 'SWITCHYARD_MAPPING_MAX_TIMEOUT_MS' },
  pushRate: { flag: '--push-rate', env: 'SWITCHYARD_PUSH_RATE' },
  apiRate: { flag: '--api-rate', env: 'SWITCHYARD_API_RATE' },
  logLevel: { flag: '--log-level', env: 'LOG_LEVEL' },
  logFormat: { flag: '--log-format', env: 'LOG_FORMAT' },
  sqliteSync: { flag: '--sqlite-sync', env: 'SWITCHYARD_SQLITE_SYNC' },
  // no command-line flags for these two: environment or config file only (docs/configuration.md)
  poolSize: { env: 'SWITCHYARD_POOL_SIZE' },
  retentionDays: { env: 'SWITCHYARD_RETENTION_DAYS' },
  leaseSeconds: { flag: '--lease-seconds', env: 'SWITCHYARD_LEASE_SECONDS' },
  endpointLoopback: { flag: '--endpoint-loopback', env: 'SWITCHYARD_ENDPOINT_LOOPBACK' },
  endpointAllow: { flag: '--endpoint-allow', env: 'SWITCHYARD_ENDPOINT_ALLOW' },
  endpointDeny: { flag: '--endpoint-deny', env: 'SWITCHYARD_ENDPOINT_DENY' },
};

function fail(key: keyof HubConfig, value: unknown, allowed: string): never {
  const { flag, env } = SOURCES[key];
  const from = flag ? `${flag} / ${env}` : env;
  throw new ConfigError(`invalid setting ${key} (${from}): ${JSON.stringify(value)} — ${allowed}`);
}

function integer(key: keyof HubConfig, value: unknown, min: number, max: number): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    fail(key, value, `must be a whole number from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(key: keyof HubConfig, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T))
    fail(key, value, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

function bool(key: keyof HubConfig, value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fail(key, value, 'must be true or false');
}

/** A JSON array of strings (config file) or a comma-separated string (flag, environment). */
function cidrList(key: keyof HubConfig, value: unknown): string[] {
  const list =
    typeof value === 'string'
      ? value.split(',').map((e) => e.trim())
      : Array.isArray(value) && value.every((e) => typeof e === 'string')
        ? (value as string[])
        : fail(key, value, 'must be a list of CIDRs, addresses or host names (comma-separated)');
  const entries = list.filter((e) => e !== '');
  for (const entry of entries) {
    const problem = entryProblem(entry);
    if (problem) fail(key, value, problem);
  }
  return entries;
}

function text(key: keyof HubConfig, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') fail(key, value, 'must be a non-empty string');
  return value;
}

/**
 * postgres:// or postgresql:// (PostgreSQL), sqlite:PATH, or a bare file path (SQLite). Any
 * other scheme is refused: `mysql://x/y` was taken as a SQLite file named so, in the directory
 * the hub was started from.
 */
function databaseUrl(value: unknown): string {
  const url = text('databaseUrl', value);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme && scheme !== 'postgres' && scheme !== 'postgresql' && scheme !== 'sqlite')
    fail(
      'databaseUrl',
      value,
      'must be a postgres:// or postgresql:// URL, sqlite:PATH, or the path of a SQLite file',
    );
  return url;
}

function fromEnv(env: NodeJS.ProcessEnv): Raw {
  const out: Raw = {};
  for (const [key, { env: name }] of Object.entries(SOURCES) as [keyof HubConfig, { env: string }][]) {
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

function fromFile(path: string): Raw {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in SOURCES)) {
      throw new ConfigError(
        `config file ${path}: unknown setting "${key}" (known: ${Object.keys(SOURCES).join(', ')})`,
      );
    }
  }
  return parsed as Raw;
}

/**
 * Resolves the configuration: flags > environment > config file > defaults. Every value is
 * checked here, so a bad setting stops start-up with a message naming it, the value and what is
 * allowed, instead of failing later somewhere deep.
 */
export function loadConfig(
  flags: Raw = {},
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
): HubConfig {
  const file = configFile ?? env.SWITCHYARD_CONFIG;
  const defined = (raw: Raw) =>
    Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Raw;
  const raw: Raw = { ...(file ? fromFile(file) : {}), ...defined(fromEnv(env)), ...defined(flags) };
  const merged = { ...DEFAULTS, ...raw };
  return {
    port: integer('port', merged.port, 0, 65535),
    host: text('host', merged.host),
    dataDir: resolve(text('dataDir', merged.dataDir)),
    databaseUrl: merged.databaseUrl === undefined ? undefined : databaseUrl(merged.databaseUrl),
    adminToken: merged.adminToken === undefined ? undefined : checkAdminToken(merged.adminToken),
    role: oneOf('role', merged.role, ['all', 'api', 'worker'] as const),
    bodyLimit: integer('bodyLimit', merged.bodyLimit, 1024, 64 * 1024 * 1024),
    maxConnections: integer('maxConnections', merged.maxConnections, 1, 1_000_000),
    mappingMaxConcurrency: integer('mappingMaxConcurrency', merged.mappingMaxConcurrency, 1, 1000),
    mappingMaxTimeoutMs: integer('mappingMaxTimeoutMs', merged.mappingMaxTimeoutMs, 1000, 600_000),
    pushRate: integer('pushRate', merged.pushRate, 0, 1_000_000),
    apiRate: integer('apiRate', merged.apiRate, 0, 1_000_000),
    logLevel: oneOf('logLevel', merged.logLevel, [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ] as const),
    logFormat: oneOf('logFormat', merged.logFormat, ['auto', 'json', 'pretty'] as const),
    sqliteSync: oneOf('sqliteSync', merged.sqliteSync, ['full', 'normal'] as const),
    poolSize: integer('poolSize', merged.poolSize, 1, 1000),
    retentionDays: integer('retentionDays', merged.retentionDays, 1, 36500),
    leaseSeconds: integer('leaseSeconds', merged.leaseSeconds, 1, 3600),
    endpointLoopback: bool('endpointLoopback', merged.endpointLoopback),
    endpointAllow: cidrList('endpointAllow', merged.endpointAllow),
    endpointDeny: cidrList('endpointDeny', merged.endpointDeny),
  };
}

function checkAdminToken(value: unknown): string {
  const token = text('adminToken', value);
  if (token.length < 16) fail('adminToken', '(hidden)', 'must be at least 16 characters');
  return token;
}
