import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  /** Wait this long before answering (timeouts, overlap checks). */
  delayMs?: number;
}

export type Handler = (req: Received, index: number) => Reply | Promise<Reply>;

/**
 * A real endpoint service on 127.0.0.1 for delivery tests: records every request and answers with
 * what the test's handler says. It also tracks how many requests overlap, per key, so tests can
 * prove concurrency limits and ordering.
 */
export class TestEndpoint {
  readonly received: Received[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private server: Server;
  url = '';

  constructor(public handler: Handler = (r) => ({ body: { message_id: r.body?.message_id } })) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        const received: Received = { path: req.url ?? '/', headers: req.headers, raw, body, at: Date.now() };
        const index = this.received.push(received) - 1;
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          const reply = await this.handler(received, index);
          if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
          const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
          res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
          res.end(text);
        } catch {
          if (!res.headersSent) res.writeHead(500).end();
        } finally {
          this.inFlight--;
        }
      });
    });
  }

  static async start(handler?: Handler): Promise<TestEndpoint> {
    const e = new TestEndpoint(handler);
    await new Promise<void>((resolve) => e.server.listen(0, '127.0.0.1', resolve));
    e.url = `http://127.0.0.1:${(e.server.address() as AddressInfo).port}`;
    return e;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Waits until at least `n` requests arrived (or fails after `ms`). */
  async waitFor(n: number, ms = 10_000): Promise<Received[]> {
    const deadline = Date.now() + ms;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`endpoint got ${this.received.length} of ${n} requests`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.received;
  }
}

/** Polls `check` until it returns a truthy value (or fails after `ms`). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
