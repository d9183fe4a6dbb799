import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { request } from 'undici';
import { CLIENT_TIMEOUT_MS } from './http-client.js';

/** `switchyard push STORE_ID FILE --token T`: the seed's curl command as a subcommand. */
export function registerPush(program: Command): void {
  program
    .command('push')
    .description("Push a message from a JSON file, like the seed page's curl command")
    .argument('<store_id>', 'the store id')
    .argument('<file>', 'JSON file with {"message": …, "payload": {…}} (- for stdin)')
    .requiredOption('--token <token>', 'the store API token (X-Augury-Token)')
    .option('--url <url>', 'hub base URL', 'http://127.0.0.1:4000')
    .option('--idempotency-key <key>', 'make retries of this push safe')
    .action(
      async (
        storeId: string,
        file: string,
        opts: { token: string; url: string; idempotencyKey?: string },
      ) => {
        const body = file === '-' ? await readStdin() : await readFile(file, 'utf8');
        const url = `${opts.url.replace(/\/+$/, '')}/api/stores/${encodeURIComponent(storeId)}/messages`;
        const res = await request(url, {
          method: 'POST',
          headersTimeout: CLIENT_TIMEOUT_MS,
          bodyTimeout: CLIENT_TIMEOUT_MS,
          headers: {
            'content-type': 'application/json',
            'x-augury-token': opts.token,
            ...(opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}),
          },
          body,
        });
        const text = await res.body.text();
        if (res.statusCode !== 201) {
          process.stderr.write(`push failed with ${res.statusCode}: ${text}\n`);
          process.exitCode = 1;
          return;
        }
        process.stdout.write(`${text}\n`);
      },
    );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
