import pino, { type Logger } from 'pino';
import type { HubConfig } from './config.js';
import { type App, buildApp } from './http/app.js';
import { StoreAuth } from './http/auth.js';
import type { ConnectionLimits } from './http/connections.js';
import { RateLimiter } from './http/rate-limit.js';
import { newStore } from './http/routes/stores.js';
import { Metrics } from './metrics.js';
import { ConnectionWatch } from './pipeline/connection-watch.js';
import type { Router } from './pipeline/intake.js';
import { MessageValidator } from './pipeline/message-validation.js';
import { outboundAgent } from './pipeline/outbound.js';
import { MappingRouter } from './pipeline/router.js';
import { type WorkerOptions, Workers } from './pipeline/workers.js';
import type { Storage, Store } from './storage/contract.js';
import { openStorage } from './storage/open.js';
import { UrlPolicy } from './url-policy.js';

export interface Hub {
  app: App;
  storage: Storage;
  log: Logger;
  /** The address the HTTP server listens on, once started. */
  url: string;
  close(): Promise<void>;
}

export interface HubOptions {
  /** Use this storage instead of opening the configured one (tests). */
  storage?: Storage;
  router?: Router;
  logger?: Logger;
  /** Bind the HTTP port (default true). */
  listen?: boolean;
  workers?: WorkerOptions;
  /** Connection timeouts other than the defaults (tests); the cap comes from the config. */
  connections?: Partial<ConnectionLimits>;
}

/**
 * Wires a hub together: storage, the HTTP app and the background workers of the configured role.
 * `api` serves HTTP only, `worker` runs the pipeline only (its HTTP server answers health checks),
 * `all` does both.
 */
export async function startHub(config: HubConfig, options: HubOptions = {}): Promise<Hub> {
  const log = options.logger ?? createLogger(config.logLevel);
  const storage = options.storage ?? (await openStorage(config));
  const runsWorkers = config.role !== 'api';
  let closing = false;

  // Several processes (PostgreSQL): a mapping may change through another, so every intake batch
  // checks the store's mapping-set version (one primary-key read). SQLite: invalidation suffices.
  const mappingRouter = new MappingRouter(storage, {
    log: log.child({ component: 'router' }),
    recheckMs: storage.database.singleProcess ? 2000 : 0,
  });
  const validator = new MessageValidator(storage);
  const fences = fencesOf(config);
  const metrics = new Metrics();
  storage.observeSyncs((seconds) => metrics.walSync.observe(seconds));
  const workers = new Workers(storage, options.router ?? mappingRouter, validator, log, {
    metrics,
    retentionMs: config.retentionDays * 24 * 60 * 60 * 1000,
    ...options.workers,
    engine: {
      leaseMs: config.leaseSeconds * 1000,
      urlPolicy: fences.urlPolicy,
      caps: fences.mappingCaps,
      ...options.workers?.engine,
    },
  });
  let unsubscribe = async () => {};

  const app = await buildApp(
    {
      storage,
      auth: new StoreAuth(storage),
      validator,
      onIncoming: () => workers.intake.wake(),
      onDeliveryDue: () => workers.delivery.wake(),
      onMappingsChanged: (storeId) => {
        mappingRouter.invalidate(storeId);
        workers.mappingsChanged(storeId);
      },
      adminToken: config.adminToken,
      ...fences,
      bodyLimit: config.bodyLimit,
      isReady: () => !closing,
      circuits: runsWorkers ? workers.circuits : undefined,
      apiRoutes: config.role !== 'worker', // a worker serves health checks only
      metrics,
    },
    {
      logger: log.child({ component: 'http' }),
      connections: { maxConnections: config.maxConnections, ...options.connections },
    },
  );

  if (runsWorkers) {
    // The only process on its database (SQLite): a lease found at start belongs to a process that
    // died, so hand those messages back at once instead of waiting for the leases to expire.
    if (storage.database.singleProcess) await storage.sweepLeases(Date.now(), true);
    // other processes' work (PostgreSQL): wake the stage that has something new to do
    // a lost LISTEN connection is a warn line and, once a wake-up arrives again (the catch-up
    // right after the reconnect), an info line (connection-watch.ts); the workers poll meanwhile
    const listen = new ConnectionWatch(log, 'listen');
    unsubscribe = storage.subscribe(
      (channel) => {
        listen.succeeded();
        if (channel === 'incoming') workers.intake.wake();
        else workers.delivery.wake();
      },
      (err) => listen.lost(err),
    );
    workers.start();
  }

  let url = '';
  if (options.listen !== false) {
    url = await app.listen({ port: config.port, host: config.host });
  }

  return {
    app,
    storage,
    log,
    get url() {
      return url;
    },
    async close() {
      if (closing) return;
      closing = true;
      // Stop taking work first (in-flight deliveries get a bounded wait), then let in-flight HTTP
      // requests finish, then release the database.
      if (runsWorkers) {
        await unsubscribe();
        await workers.stop();
      }
      await app.close();
      await fences.outbound.close();
      if (!options.storage) await storage.close();
    },
  };
}

/**
 * The fences between stores of a process (docs/security.md): the endpoint URL policy, checked on
 * the URLs stores register and on every address the hub connects to for them (deliveries,
 * endpoint.json fetches: pipeline/outbound.ts), the caps on what a mapping may ask for, and the
 * per-store rate limits.
 */
function fencesOf(config: HubConfig) {
  const urlPolicy = new UrlPolicy({
    loopback: config.endpointLoopback,
    allow: config.endpointAllow,
    deny: config.endpointDeny,
  });
  return {
    urlPolicy,
    outbound: outboundAgent(urlPolicy, { connections: 8 }),
    mappingCaps: { concurrency: config.mappingMaxConcurrency, timeoutMs: config.mappingMaxTimeoutMs },
    limiter: new RateLimiter({ push: config.pushRate, api: config.apiRate }),
  };
}

/**
 * JSON log lines on stdout. Request logs carry Fastify's request id; secrets are redacted wherever
 * a line would include them (Fastify's request serializer logs no headers, this is a second guard).
 */
export function createLogger(level: HubConfig['logLevel'], destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'switchyard' },
    redact: {
      paths: [
        'req.headers["x-augury-token"]',
        'req.headers["x-admin-token"]',
        'req.headers["x-hub-token"]',
        'req.headers.authorization',
        'token',
        '*.token',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** On first start with an empty database, create the "Default Store" so the seed's curl works at once. */
export async function ensureDefaultStore(
  storage: Storage,
): Promise<{ store: Store; token: string } | undefined> {
  if ((await storage.countStores()) > 0) return undefined;
  const { store, token, secret } = newStore('Default Store');
  return (await storage.createFirstStore(store, token)) ? { store, token: secret } : undefined;
}
