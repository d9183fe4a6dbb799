import { createServer } from 'node:http';
import type { Command } from 'commander';

/**
 * `switchyard endpoint echo`: the smallest endpoint service there is. It answers every service
 * request with `{"message_id": …}` (the original hub's minimal success reply) and prints one line
 * per request, so a new user can watch a full round trip: push → route → deliver → archived.
 * It also describes itself at `GET /endpoint.json`, so it can be added as an integration and
 * signed up for (docs/integrations.md).
 */
const DESCRIPTOR = {
  name: 'echo',
  display: 'Echo endpoint',
  description: 'Answers every service request with its message_id (switchyard endpoint echo).',
  services: [
    {
      name: 'products',
      path: '/products',
      description: 'Receives product messages.',
      recommends: { messages: ['product:new', 'product:update'] },
    },
    {
      name: 'orders',
      path: '/orders',
      description: 'Receives order messages.',
      requires: {
        parameters: [{ name: 'greeting', description: 'Sent back with nothing', default: 'hello' }],
      },
      recommends: { messages: ['order:new', 'order:updated'] },
    },
  ],
};

export function registerEndpoint(program: Command): void {
  const endpoint = program.command('endpoint').description('Tiny local endpoints for trying the hub');
  endpoint
    .command('echo')
    .description('Answer every service request with its message_id')
    .option('--port <port>', 'port to listen on', '4001')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--token <token>', 'answer 401 unless X-Augury-Token (or X-Hub-Token) equals this')
    .action(async (opts: { port: string; host: string; token?: string }) => {
      const server = createServer((req, res) => {
        if (req.method === 'GET' && req.url?.split('?')[0] === '/endpoint.json') {
          process.stdout.write(`${new Date().toISOString()} GET /endpoint.json\n`);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(DESCRIPTOR));
          return;
        }
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const presented = req.headers['x-augury-token'] ?? req.headers['x-hub-token'];
          if (opts.token && presented !== opts.token) {
            res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
            return;
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
            res
              .writeHead(406, { 'content-type': 'application/json' })
              .end('{"error":"body is not a JSON object"}');
            return;
          }
          const body = parsed as { message?: unknown; message_id?: unknown };
          process.stdout.write(
            `${new Date().toISOString()} ${req.method} ${req.url} ${body.message ?? '?'} ${body.message_id ?? '?'}\n`,
          );
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ message_id: body.message_id ?? null }));
        });
      });
      // a port in use or an address not on this machine ends the command with the reason, not a stack
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(opts.port), opts.host, () => {
          server.off('error', reject);
          resolve();
        });
      }).catch((err: NodeJS.ErrnoException) => {
        throw new Error(`cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}`);
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : opts.port;
      process.stdout.write(`echo endpoint listening on http://${opts.host}:${port}\n`);
      const stop = () => server.close(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
}
