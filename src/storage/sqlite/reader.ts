import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult } from 'kysely';
import { SqliteDialectBase } from './dialect.js';
import { stopWorker } from './stop-worker.js';

const require = createRequire(import.meta.url);

// Runs in a worker thread with its own read-only connection to the same file (CommonJS: eval
// workers are). Each request is a batch of statements run in one read transaction (a single one
// in its own): together they see everything committed before the first began, and nothing after.
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('query_only = ON');
// Background priority for this thread alone: when the CPU is short, pushes and deliveries on the
// main thread come first and reads wait. Only Linux keeps a nice value per thread; elsewhere the
// call would lower the whole process, so the reader runs at the hub's priority there.
if (process.platform === 'linux') {
  try {
    require('node:os').setPriority(19);
  } catch {}
}
const statements = new Map();
const run = ({ sql, params }) => {
  let stmt = statements.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    if (statements.size >= 200) statements.clear();
    statements.set(sql, stmt);
  }
  // a statement that writes reaches SQLite, whose query_only refuses it with its own error
  return stmt.reader ? stmt.all(params) : (stmt.run(params), []);
};
const together = db.transaction((batch) => batch.map(run));
parentPort.on('message', (m) => {
  if (m === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const results = m.batch.length === 1 ? [run(m.batch[0])] : together(m.batch);
    parentPort.postMessage({ id: m.id, results });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
`;

interface Waiting {
  resolve: (results: unknown[][]) => void;
  reject: (err: Error) => void;
}

/** A statement to read and its parameters. */
export interface ReadStatement {
  sql: string;
  params: readonly unknown[];
}

type Reply = { id: number; results: unknown[][] } | { id: number; error: { message: string; code?: string } };

/**
 * A worker thread that answers reads on its own connection. better-sqlite3 runs a statement
 * synchronously on the calling thread, and the hub has one event loop: a listing whose filter
 * matches few rows of a large archive scans it (~1 µs a row: a second for a million), and the
 * exact archived count of `GET …/queues` takes 100–300 ms there — stalling every push, intake
 * and delivery meanwhile. Those reads come here instead. WAL mode lets this connection read
 * while the main one writes; a statement sees what was committed when it began.
 *
 * On Linux the thread runs at nice 19: with a core to spare a read is as fast as on the main
 * thread, and when the hub is saturated the pipeline keeps the CPU (pinned to one core and pushed
 * as fast as possible, a hub answered 40 % fewer pushes while an operator browsed a
 * million-message archive; at nice 19 as many as with nobody browsing, while each read took
 * seconds instead of ~0.5 s).
 *
 * The worker starts on the first read (a hub nobody browses never pays for it), and again after
 * it died (every read waiting on it fails). Between reads it does not keep the process alive.
 */
export class SqliteReader {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly file: string) {}

  async read(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    const [rows] = await this.readTogether([{ sql, params }]);
    return rows!;
  }

  /** Runs the statements in one read transaction: their rows agree with each other. */
  readTogether(batch: readonly ReadStatement[]): Promise<unknown[][]> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) worker.ref();
      try {
        worker.postMessage({ id, batch });
      } catch (err) {
        // a parameter that cannot be cloned: nothing was sent, nothing will answer
        this.settled(id);
        reject(err);
      }
    });
  }

  /** Forgets a read; the worker stops holding the process open once none is waiting. */
  private settled(id: number): Waiting | undefined {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    // closing keeps the worker referenced until it has exited (close())
    if (this.waiting.size === 0 && !this.closed) this.worker?.unref();
    return w;
  }

  private start(): Worker {
    const worker = new Worker(SCRIPT, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: this.file },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => this.answer(reply));
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      worker.unref();
      const waiting = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of waiting) w.reject(err);
    };
    worker.on('error', fail);
    worker.on('messageerror', (err) => {
      // an answer that could not be read: give up on this worker, the next read starts another
      fail(err);
      void worker.terminate();
    });
    worker.on('exit', (code) => fail(new Error(`the database reader thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private answer(reply: Reply): void {
    const w = this.settled(reply.id);
    if (!w) return;
    if ('error' in reply) {
      const err = new Error(reply.error.message) as Error & { code?: string };
      if (reply.error.code) err.code = reply.error.code;
      w.reject(err);
    } else {
      w.resolve(reply.results);
    }
  }

  /**
   * Lets the reads under way finish ('stop' is answered after them), then closes the worker's
   * connection (stop-worker.ts: a read still running after `graceMs` is let go, as it only reads).
   */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    if (this.worker) await stopWorker(this.worker, graceMs);
  }
}

/** Kysely over a SqliteReader: single statements only, no transactions. */
export class SqliteReaderDialect extends SqliteDialectBase {
  constructor(private readonly reader: SqliteReader) {
    super();
  }
  createDriver(): Driver {
    return new ReaderDriver(this.reader);
  }
}

class ReaderConnection implements DatabaseConnection {
  constructor(private readonly reader: SqliteReader) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return { rows: (await this.reader.read(query.sql, query.parameters)) as R[] };
  }

  // biome-ignore lint/correctness/useYield: streaming is not used by the hub
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the SQLite reader');
  }
}

class ReaderDriver implements Driver {
  private readonly connection: ReaderConnection;
  constructor(private readonly reader: SqliteReader) {
    this.connection = new ReaderConnection(reader);
  }
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }
  async beginTransaction(): Promise<void> {
    throw new Error('the SQLite reader runs single statements, not transactions');
  }
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {
    await this.reader.close();
  }
}
