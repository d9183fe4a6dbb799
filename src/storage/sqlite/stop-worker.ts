import type { Worker } from 'node:worker_threads';

/**
 * Stops a database worker thread (checkpointer.ts, reader.ts): it is sent 'stop', closes its
 * connection and exits, holding the process open meanwhile. Bounded: a worker still busy after
 * `graceMs` — a statement starved of CPU, say — is let go. `terminate()` cannot interrupt
 * SQLite's native code, so it is asked for but not waited on past a second; the process may exit
 * under the thread, whose connection is then closed by the operating system like any other.
 */
export async function stopWorker(worker: Worker, graceMs: number): Promise<void> {
  const exited = new Promise<boolean>((resolve) => worker.once('exit', () => resolve(true)));
  const after = (ms: number) => new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref());
  worker.ref();
  worker.postMessage('stop');
  if (await Promise.race([exited, after(graceMs)])) return;
  worker.unref();
  await Promise.race([worker.terminate().catch(() => 0), after(1000)]);
}
