import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { nowUs, percentiles } from './stats.js';

/**
 * The open-loop pusher of the end-to-end measurement, in a process of its own so that nothing
 * else (the harness's heap, autocannon's leftovers) can stall it: pushes are sent on a schedule,
 * `rate` a second for `seconds`, whatever the answers do, each stamped with the monotonic clock as
 * it is sent. Driven over IPC: {cmd: 'run', url, headers, body, rate, seconds} answers with the
 * send time of every acknowledged push by message_id, the push→201 latencies, and its own lag.
 */
interface RunCommand {
  id: number;
  cmd: 'run';
  url: string;
  headers: Record<string, string>;
  body: string;
  rate: number;
  seconds: number;
}

async function run(c: RunCommand) {
  const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
  const total = Math.round(c.rate * c.seconds);
  const sent: [string, number][] = [];
  const latencies: number[] = [];
  /** The slowest answers: [ms after the start it was sent, latency ms]. */
  const slow: [number, number][] = [];
  const inflight: Promise<void>[] = [];
  let failed = 0;
  let lagMax = 0;
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();

  const pushOne = async () => {
    const t0 = nowUs();
    try {
      const res = await request(c.url, {
        method: 'POST',
        headers: c.headers,
        body: c.body,
        dispatcher: agent,
      });
      const body = (await res.body.json()) as { message_id?: string };
      const ms = (nowUs() - t0) / 1000;
      latencies.push(ms);
      if (ms > 50) slow.push([Math.round((t0 - started) / 1000), Math.round(ms)]);
      if (res.statusCode === 201 && body.message_id) sent.push([body.message_id, t0]);
      else failed++;
    } catch {
      failed++;
    }
  };

  const started = nowUs();
  let count = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowUs();
      const due = Math.min(total, Math.floor(((now - started) / 1e6) * c.rate) + 1);
      if (count < due) lagMax = Math.max(lagMax, (now - (started + (count * 1e6) / c.rate)) / 1000);
      while (count < due) {
        count++;
        inflight.push(pushOne());
      }
      if (count >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inflight);
  eld.disable();
  await agent.close();
  return {
    sent,
    failed,
    push: percentiles(latencies),
    lagMaxMs: Math.round(lagMax * 100) / 100,
    slow: slow.slice(0, 200),
    eldMaxMs: Math.round((eld.max / 1e6 - 5) * 100) / 100,
  };
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
process.stdout.write('pusher ready\n');
