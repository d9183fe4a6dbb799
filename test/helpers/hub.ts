import { type HubConfig, loadConfig } from '../../src/config.js';
import { ensureDefaultStore, type Hub, startHub } from '../../src/hub.js';
import type { Router } from '../../src/pipeline/intake.js';
import type { WorkerOptions } from '../../src/pipeline/workers.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { type Backend, freshDatabase } from './databases.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestHub {
  hub: Hub;
  backend: Backend;
  storeId: string;
  token: string;
  config: HubConfig;
  /** Stop the hub and drop its database. */
  close(): Promise<void>;
  /** Push through the public API (inject); returns the parsed answer. */
  push(
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  get(path: string): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  /** Wait until the incoming queue is empty (intake caught up). */
  drained(): Promise<void>;
}

export interface TestHubOptions {
  listen?: boolean;
  router?: Router;
  config?: Partial<HubConfig>;
  workers?: WorkerOptions;
  /** Open (and migrate) the database another way than the configured one (a test's own syncer). */
  openStorage?: (config: HubConfig) => Promise<Storage>;
}

/** A hub on a fresh database of the given backend, with the default store created. */
export async function testHub(backend: Backend, options: TestHubOptions = {}): Promise<TestHub> {
  const db = await freshDatabase(backend);
  const config = {
    ...loadConfig(
      { dataDir: db.dataDir, databaseUrl: db.url, port: 0, adminToken: ADMIN_TOKEN, logLevel: 'silent' },
      {},
    ),
    ...options.config,
  };
  const storage = await (options.openStorage ?? openStorage)(config);
  const created = (await ensureDefaultStore(storage))!;
  const hub = await startHub(config, {
    storage,
    listen: options.listen ?? false,
    workers: { deliveryPollMs: 50, sweepEveryMs: 200, ...options.workers },
    ...(options.router ? { router: options.router } : {}),
  });
  const storeId = created.store.id;
  const token = created.token;
  const call = async (
    method: 'GET' | 'POST',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await hub.app.inject({
      method,
      url,
      headers: {
        'x-augury-token': token,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(payload === undefined
        ? {}
        : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    let body: unknown = res.body;
    try {
      body = JSON.parse(res.body);
    } catch {}
    return { status: res.statusCode, body: body as any, headers: res.headers as Record<string, unknown> };
  };
  return {
    hub,
    backend,
    storeId,
    token,
    config,
    async close() {
      await hub.close();
      await storage.close();
      await db.drop();
    },
    push: (body, headers) => call('POST', `/api/stores/${storeId}/messages`, body, headers),
    get: (path) => call('GET', path.startsWith('/') ? path : `/api/stores/${storeId}/${path}`),
    async drained() {
      for (let i = 0; i < 500; i++) {
        const counts = await storage.queueCounts(storeId);
        if (counts.incoming === 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('intake did not drain the incoming queue within 5 s');
    },
  };
}
