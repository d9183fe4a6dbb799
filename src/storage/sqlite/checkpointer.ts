import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { stopWorker } from './stop-worker.js';

const require = createRequire(import.meta.url);

// Runs in a worker thread with its own connection to the same file (CommonJS: eval workers are).
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const pass = () => {
  const started = performance.now();
  const [r] = db.pragma('wal_checkpoint(PASSIVE)');
  return { log: r ? r.log : 0, ms: performance.now() - started };
};
const timer = setInterval(() => {
  try {
    let r = pass();
    if (r.log < workerData.restartFrames) return;
    // each pass copies what came in during the one before: a few more and the rest is tiny
    for (let i = 0; i < 5 && r.ms > 1; i++) r = pass();
    parentPort.postMessage(r.log);
  } catch {}
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Moves WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit
 * that crosses the threshold, on the hub's only connection, so every so often one push, intake or
 * settlement would stall everything for the time it takes to copy the WAL into the database file
 * and fsync it. A worker thread with its own connection checkpoints PASSIVE-ly (it never blocks
 * the writer) every `everyMs`.
 *
 * A passive checkpoint cannot end the log's growth while writes go on: the log starts over from
 * its beginning only when a write finds every frame already copied back, and under a steady load
 * new frames arrive while each pass runs. Left alone, the log grows to the automatic threshold
 * (the main connection's `wal_autocheckpoint`) and the commit that crosses it copies whatever the
 * worker has not — up to `everyMs` of writes: stalls of 40–90 ms every ~80 MB of log under a
 * saturating load (measured 2026-11-28). So once the log holds `restartFrames` frames (~20 MB,
 * a quarter of the threshold), the worker follows its pass with shorter ones (each copies what came
 * in during the one before) until one takes about a millisecond, then tells the main thread;
 * `restart` (the main connection's own PASSIVE checkpoint, run between two event-loop tasks)
 * copies only what came in since — measured 0.1–5.7 ms on the event loop, once 29 ms — and the
 * next write starts the log over (once no other process is reading it). Returns a function that
 * stops the worker.
 */
export function startCheckpointer(
  file: string,
  restart: () => void,
  { everyMs = 500, restartFrames = 5_000 } = {},
): () => Promise<void> {
  const worker = new Worker(SCRIPT, {
    eval: true,
    workerData: { driver: require.resolve('better-sqlite3'), file, everyMs, restartFrames },
  });
  worker.unref();
  worker.on('error', () => {});
  let pending = false;
  worker.on('message', () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      restart();
    });
  });
  return () => stopWorker(worker, 2000);
}
