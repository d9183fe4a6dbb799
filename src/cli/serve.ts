import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { HubConfig } from '../config.js';
import { createLogger, ensureDefaultStore, startHub } from '../hub.js';
import { library } from '../library/index.js';
import { LogOutput, resolveLogFormat } from '../log-output.js';
import { isPostgresUrl, openStorage, sqliteFile } from '../storage/open.js';
import { lockSqliteDatabase } from '../storage/sqlite/process-lock.js';
import { VERSION } from '../version.js';
import { configFrom, databaseOptions } from './options.js';
import { stopWithParent } from './parent-watch.js';

interface ServeFlags {
  port?: string;
  host?: string;
  data?: string;
  database?: string;
  config?: string;
  role?: string;
  adminToken?: string;
  logLevel?: string;
  logFormat?: string;
  bodyLimit?: string;
  maxConnections?: string;
  pushRate?: string;
  apiRate?: string;
  sqliteSync?: string;
  leaseSeconds?: string;
  endpointLoopback?: string;
  endpointAllow?: string;
  endpointDeny?: string;
}

export function registerServe(program: Command): void {
  databaseOptions(program.command('serve').description('Run the hub (HTTP API and pipeline workers)'))
    .option('--port <port>', 'HTTP port (env PORT; default 4000)')
    .option('--host <host>', 'interface to bind (env HOST; default 127.0.0.1)')
    .option('--role <role>', 'all | api | worker (default all)')
    .option('--admin-token <token>', 'enables the /api/stores admin API (env SWITCHYARD_ADMIN_TOKEN)')
    .option('--log-level <level>', 'fatal … trace, or silent (env LOG_LEVEL; default info)')
    .option(
      '--log-format <format>',
      'auto (pretty on a terminal, else json) | json | pretty (env LOG_FORMAT)',
    )
    .option('--body-limit <bytes>', 'largest request body (default 1048576)')
    .option('--max-connections <n>', 'HTTP connections open at once (default 10000)')
    .option('--push-rate <n>', 'pushes a second per store, 0 = unlimited (default 0)')
    .option('--api-rate <n>', 'other store API requests a second per store, 0 = unlimited (default 0)')
    .option('--sqlite-sync <mode>', 'full (default) or normal; see docs/storage.md')
    .option('--lease-seconds <s>', 'delivery lease without heartbeat (default 30)')
    .option('--endpoint-loopback <bool>', 'false refuses endpoints on loopback (default true)')
    .option('--endpoint-allow <list>', 'CIDRs/hosts endpoints may use despite the built-in refusals')
    .option('--endpoint-deny <list>', 'CIDRs/hosts endpoints may not use; see docs/security.md')
    .action(async (flags: ServeFlags) => {
      const config = configFrom(flags, {
        port: flags.port as never,
        host: flags.host,
        role: flags.role as never,
        adminToken: flags.adminToken,
        logLevel: flags.logLevel as never,
        logFormat: flags.logFormat as never,
        bodyLimit: flags.bodyLimit as never,
        maxConnections: flags.maxConnections as never,
        pushRate: flags.pushRate as never,
        apiRate: flags.apiRate as never,
        sqliteSync: flags.sqliteSync as never,
        leaseSeconds: flags.leaseSeconds as never,
        endpointLoopback: flags.endpointLoopback as never,
        endpointAllow: flags.endpointAllow as never,
        endpointDeny: flags.endpointDeny as never,
      });
      // one serving process per SQLite database (sqlite/process-lock.ts), held until it ends (and
      // kept referenced: a lock collected as garbage would close, and free, its file)
      const unlock = isPostgresUrl(config.databaseUrl)
        ? () => {}
        : lockSqliteDatabase(sqliteFile(config.databaseUrl, config.dataDir));
      const storage = await openStorage(config);
      // log lines wait until the banner is out (src/log-output.ts)
      const output = new LogOutput(resolveLogFormat(config.logFormat), process.stdout, { hold: true });
      const logger = createLogger(config.logLevel, output);
      let hub: Awaited<ReturnType<typeof startHub>>;
      try {
        hub = await startHub(config, { storage, logger });
      } catch (err) {
        output.open();
        throw err;
      }
      // the Default Store only once the hub listens: created before a start that then failed (a
      // port in use), its token — printed once, on the first start — was never shown
      const created = await ensureDefaultStore(storage);
      const stores = created ? [] : await storage.listStores();
      process.stdout.write(banner(config, hub.url, { created, stores }));
      output.open();

      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        hub.log.info({ signal }, 'shutting down');
        hub
          .close()
          .then(() => storage.close())
          .then(unlock)
          .then(
            () => process.exit(0),
            (err) => {
              hub.log.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      stopWithParent(() => stop('parent process ended'));
    });
}

export interface StartInfo {
  /** The Default Store and its token, when this process created it (the first start). */
  created: { store: { id: string }; token: string } | undefined;
  /** The stores that already existed otherwise (a later start, or another process made them). */
  stores: { id: string; name: string }[];
}

/**
 * What `switchyard serve` prints once it listens. Every process that serves the API says how to
 * push: with the token when it created the first store, and otherwise with the command that makes
 * a token, so the next step is where the user looks whichever process of a cluster won the
 * first-start race. The push example is one paste from any directory: the variables, then a curl
 * with the library's own product:new sample inline.
 */
export function banner(config: HubConfig, url: string, start: StartInfo): string {
  const db = isPostgresUrl(config.databaseUrl)
    ? 'PostgreSQL'
    : `SQLite ${sqliteFile(config.databaseUrl, config.dataDir)}`;
  const lines = [`Switchyard ${VERSION} listening on ${url} (${db}, role ${config.role})`];
  const api = config.role !== 'worker';
  if (!api)
    lines.push(
      '(a worker process: it serves /healthz, /readyz and /metrics only; the API is served by the api and all roles)',
    );
  const base = url.replace('0.0.0.0', '127.0.0.1');
  const { created, stores } = start;
  if (created) {
    lines.push(
      '',
      'Created "Default Store" on first start:',
      `  store id: ${created.store.id}`,
      `  token:    ${created.token}`,
      `  (the token is shown only once; \`npx switchyard store token create ${created.store.id}${databaseArgs(config)}\` makes another)`,
    );
    if (api) lines.push('', ...pushExample(base, created.store.id, created.token));
  } else if (api) {
    const only = stores.length === 1 ? stores[0] : undefined;
    const id = only ? only.id : '<store id>';
    lines.push(
      '',
      only
        ? `Store "${only.name}": ${only.id}. A token to push with (shown once):`
        : `${stores.length} stores (\`npx switchyard store list${databaseArgs(config)}\` shows their ids). A token to push with (shown once):`,
      `  npx switchyard store token create ${id}${databaseArgs(config)}`,
      '',
      ...pushExample(base, id, '<token>'),
    );
  }
  return `${lines.join('\n')}\n\n`;
}

function pushExample(base: string, storeId: string, token: string): string[] {
  const sample = JSON.stringify(library.sample('product:new'));
  return [
    'Push a message (from any directory):',
    `  export HUB=${base} STORE_ID=${storeId} TOKEN=${token}`,
    `  curl -H "X-Augury-Token: $TOKEN" -H "Content-Type: application/json" -d '${sample}' "$HUB/api/stores/$STORE_ID/messages"`,
  ];
}

/** The flags that point the store commands at this hub's database, when they are not the default. */
function databaseArgs(config: HubConfig): string {
  if (isPostgresUrl(config.databaseUrl))
    return process.env.DATABASE_URL === config.databaseUrl ? '' : ' --database <url>';
  if (config.databaseUrl) return ` --database ${config.databaseUrl}`;
  return config.dataDir === resolve('data') ? '' : ` --data ${config.dataDir}`;
}
