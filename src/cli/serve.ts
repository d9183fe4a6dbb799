import type { Command } from 'commander';
import type { HubConfig } from '../config.js';
import { ensureDefaultStore, startHub } from '../hub.js';
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
  bodyLimit?: string;
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
    .option('--body-limit <bytes>', 'largest request body (default 1048576)')
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
        bodyLimit: flags.bodyLimit as never,
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
      // the Default Store only once the hub listens: created before a start that then failed (a
      // port in use), its token — printed once, on the first start — was never shown
      const hub = await startHub(config, { storage });
      const created = await ensureDefaultStore(storage);
      process.stdout.write(banner(config, hub.url, created));

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

export function banner(
  config: HubConfig,
  url: string,
  created: { store: { id: string }; token: string } | undefined,
): string {
  const db = isPostgresUrl(config.databaseUrl)
    ? 'PostgreSQL'
    : `SQLite ${sqliteFile(config.databaseUrl, config.dataDir)}`;
  const lines = [`Switchyard ${VERSION} listening on ${url} (${db}, role ${config.role})`];
  if (config.role === 'worker')
    lines.push(
      '(a worker process: it serves /healthz, /readyz and /metrics only; the API is served by the api and all roles)',
    );
  if (created) {
    const base = url.replace('0.0.0.0', '127.0.0.1');
    lines.push(
      '',
      'Created "Default Store" on first start:',
      `  store id: ${created.store.id}`,
      `  token:    ${created.token}`,
      '  (the token is shown only once; `switchyard store token create <store id>` makes another)',
    );
    if (config.role !== 'worker')
      lines.push(
        '',
        "Push the seed page's sample (test/fixtures/new_product.json):",
        `  curl --data @new_product.json -H "X-Augury-Token:${created.token}" -H "Content-Type:application/json" ${base}/api/stores/${created.store.id}/messages`,
      );
  }
  return `${lines.join('\n')}\n\n`;
}
