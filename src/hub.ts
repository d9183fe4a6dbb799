import pino, { type Logger } from 'pino';
import type { HubConfig } from './config.js';
import { type App, buildApp } from './http/app.js';
import { StoreAuth } from './http/auth.js';
import { newStore } from './http/routes/stores.js';
import { Intake, type Router } from './pipeline/intake.js';
import { WorkerLoop } from './pipeline/loop.js';
import { MappingRouter } from './pipeline/router.js';
import { MessageValidator } from './pipeline/validation.js';
import type { Storage, Store } from './storage/contract.js';
import { openStorage } from './storage/open.js';

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const SHUTDOWN_GRACE_MS = 10_000;

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

  const mappingRouter = new MappingRouter(storage, { log: log.child({ component: 'router' }) });
  const intake = new Intake(storage, options.router ?? mappingRouter, () => {});
  const intakeLoop = new WorkerLoop('intake', () => intake.step(), log, { pollMs: 1000 });
  const housekeeping = new WorkerLoop(
    'housekeeping',
    async () => {
      await storage.purgeIdempotencyKeys(Date.now() - IDEMPOTENCY_WINDOW_MS);
      return 0;
    },
    log,
    { pollMs: 60_000 },
  );

  const app = await buildApp(
    {
      storage,
      auth: new StoreAuth(storage),
      validator: new MessageValidator(storage),
      onIncoming: () => intakeLoop.wake(),
      onMappingsChanged: (storeId) => mappingRouter.invalidate(storeId),
      adminToken: config.adminToken,
      bodyLimit: config.bodyLimit,
      isReady: () => !closing,
    },
    { logger: log.child({ component: 'http' }) },
  );

  if (runsWorkers) {
    intakeLoop.start();
    housekeeping.start();
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
      // Stop taking work first, then let in-flight HTTP requests finish, then release the database.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([intakeLoop.stop(), housekeeping.stop()]),
        new Promise((r) => {
          timer = setTimeout(r, SHUTDOWN_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      await app.close();
      if (!options.storage) await storage.close();
    },
  };
}

/**
 * JSON log lines on stdout. Request logs carry Fastify's request id; secrets are redacted wherever
 * a line would include them (Fastify's request serializer logs no headers, this is a second guard).
 */
export function createLogger(level: HubConfig['logLevel']): Logger {
  return pino({
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
  });
}

/** On first start with an empty database, create the "Default Store" so the seed's curl works at once. */
export async function ensureDefaultStore(
  storage: Storage,
): Promise<{ store: Store; token: string } | undefined> {
  if ((await storage.countStores()) > 0) return undefined;
  const { store, token, secret } = newStore('Default Store');
  await storage.createStore(store, token);
  return { store, token: secret };
}
