import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

// Runs in a worker thread with its own connection to the same file (CommonJS: eval workers are).
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
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
 * the writer) every `everyMs`; the main connection keeps a large automatic threshold only as a
 * safety net should the worker fall behind. Returns a function that stops the worker.
 */
export function startCheckpointer(file: string, everyMs = 500): () => Promise<void> {
  const worker = new Worker(SCRIPT, {
    eval: true,
    workerData: { driver: require.resolve('better-sqlite3'), file, everyMs },
  });
  worker.unref();
  worker.on('error', () => {});
  return async () => {
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref(); // keep the process alive until the worker has closed its connection
    worker.postMessage('stop');
    await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    await worker.terminate().catch(() => {});
  };
}
