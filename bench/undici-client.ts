import { Agent, request } from 'undici';
import { nowUs, percentiles } from './stats.js';

/**
 * The drain baseline's client, run as its own process so it can be pinned where the hub runs:
 * POSTs `count` copies of a body to a URL with undici's `request` over one Agent, `concurrency`
 * requests in flight, reading every answer's body (as the hub does). Driven over IPC:
 * {cmd: 'run', url, count, concurrency, body, headers} answers {seconds, ok, failed, p50, p99}.
 */
interface RunCommand {
  id: number;
  cmd: 'run';
  url: string;
  count: number;
  concurrency: number;
  body: string;
  headers: Record<string, string>;
}

async function run(c: RunCommand) {
  const agent = new Agent({ connections: c.concurrency, keepAliveTimeout: 10_000 });
  let next = 0;
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  const started = nowUs();
  const worker = async () => {
    while (next < c.count) {
      next++;
      const t0 = nowUs();
      try {
        const res = await request(c.url, {
          method: 'POST',
          headers: c.headers,
          body: c.body,
          dispatcher: agent,
        });
        await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) ok++;
        else failed++;
      } catch {
        failed++;
      }
      latencies.push((nowUs() - t0) / 1000);
    }
  };
  await Promise.all(Array.from({ length: c.concurrency }, worker));
  const seconds = (nowUs() - started) / 1e6;
  await agent.close();
  return { seconds, ok, failed, ...percentiles(latencies) };
}

process.on('message', (m: RunCommand) => {
  if (m.cmd !== 'run') return;
  run(m).then(
    (value) => process.send?.({ id: m.id, value }),
    (err: Error) => process.send?.({ id: m.id, value: { error: err.message } }),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.stdout.write('undici-client ready\n');
