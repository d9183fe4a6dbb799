import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: ../../ from the built dist/bench/processes.js, ../ from bench/processes.ts
 * (the tests import the harness's modules from source).
 */
export const ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/bench/') ? '../../' : '../', import.meta.url),
);
export const DIST = `${ROOT}dist/`;
const PROBE = `${DIST}bench/eld-probe.js`;

/** Settings a child must not inherit: each hub gets exactly the database the harness names. */
const STRIPPED_ENV = [
  'DATABASE_URL',
  'TEST_DATABASE_URL',
  'SWITCHYARD_ADMIN_TOKEN',
  'SWITCHYARD_DATA_DIR',
  'SWITCHYARD_CONFIG',
  'PORT',
  'HOST',
  'LOG_LEVEL',
  'NODE_OPTIONS',
];

export const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Pins this process (all its threads) to one core; false when taskset is missing or refused. */
export function pinSelf(cpu: number): boolean {
  if (!hasTaskset) return false;
  return spawnSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)]).status === 0;
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The URL from the child's `listening on …` line. */
  url: string;
  output(): string;
  exited: Promise<number | null>;
  /** Asks the event-loop-delay probe (or the child script) for something over IPC. */
  ask<T>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
}

export interface SpawnOptions {
  /** The core to pin the child to (`taskset -c`), when taskset works. */
  cpu?: number;
  env?: Record<string, string>;
  /** Node flags before the script (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Load the event-loop-delay probe (for processes we do not own, i.e. the hub). */
  probe?: boolean;
  startTimeoutMs?: number;
  /** What the child prints once ready (default `listening on <url>`; group 1, if any, is the URL). */
  ready?: RegExp;
}

const children = new Set<Child>();

/**
 * Starts `node <script> <args>` (pinned when asked), with an IPC channel, and waits for the line
 * `listening on http://…` on its stdout or stderr. Every child is registered so `killAll` (also run
 * on exit, on signals and on uncaught errors) can end it.
 */
export async function startNode(
  name: string,
  script: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<Child> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of STRIPPED_ENV) delete env[key];
  Object.assign(env, options.env ?? {});
  const nodeArgs = [
    ...(options.nodeFlags ?? []),
    ...(options.probe ? ['--import', PROBE] : []),
    script,
    ...args,
  ];
  const pinned = hasTaskset && options.cpu !== undefined;
  const [cmd, argv] = pinned
    ? ['taskset', ['-c', String(options.cpu), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const proc = spawn(cmd as string, argv as string[], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => {
    out = (out + d).slice(-200_000);
  });
  proc.stderr?.on('data', (d) => {
    out = (out + d).slice(-200_000);
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let seq = 0;
  const child: Child = {
    name,
    proc,
    pid: proc.pid ?? -1,
    url: '',
    output: () => out,
    exited,
    ask: <T>(message: Record<string, unknown>, timeoutMs = 10_000) =>
      new Promise<T>((resolve, reject) => {
        const id = ++seq;
        const timer = setTimeout(() => {
          proc.off('message', onMessage);
          reject(new Error(`${name} did not answer ${JSON.stringify(message)}`));
        }, timeoutMs);
        const onMessage = (m: unknown) => {
          const reply = m as { id?: number; value?: T };
          if (reply?.id !== id) return;
          clearTimeout(timer);
          proc.off('message', onMessage);
          resolve(reply.value as T);
        };
        proc.on('message', onMessage);
        proc.send({ ...message, id });
      }),
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  const ready = options.ready ?? /listening on (http:\/\/[^\s,)]+)/;
  while (!ready.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} did not start:\n${out}`);
    }
    await sleep(20);
  }
  child.url = (ready.exec(out)?.[1] ?? '').replace('0.0.0.0', '127.0.0.1');
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export async function stop(child: Child, graceMs = 20_000): Promise<number | null> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return child.proc.exitCode;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

/** Ends every child still running, gracefully first. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 5000)));
}

/** Synchronous last resort (exit handlers cannot wait). */
function killAllNow(): void {
  for (const c of children) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }
}

let cleanupHooks: (() => void)[] = [];

/** Something to undo synchronously if the harness dies (temp dirs); run after the children are killed. */
export function onCleanup(fn: () => void): () => void {
  cleanupHooks.push(fn);
  return () => {
    cleanupHooks = cleanupHooks.filter((f) => f !== fn);
  };
}

/** Kills every child and runs cleanup hooks on exit, SIGINT/SIGTERM and uncaught errors. */
export function installExitHandlers(): void {
  const finalCleanup = () => {
    killAllNow();
    for (const fn of cleanupHooks.splice(0)) {
      try {
        fn();
      } catch {}
    }
  };
  process.on('exit', finalCleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children\n`);
      finalCleanup();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    finalCleanup();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: unhandled rejection: ${(err as Error)?.stack ?? err}\n`);
    finalCleanup();
    process.exit(1);
  });
}

export interface Memory {
  /** Peak resident set (VmHWM), MB (10^6 bytes, as the target). */
  peakMB: number;
  /** Current resident set (VmRSS), MB. */
  rssMB: number;
}

/** VmHWM and VmRSS of a live process from /proc; undefined when it is gone or /proc is absent. */
export function memoryOf(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { peakMB: round((kb('VmHWM') * 1024) / 1e6, 1), rssMB: round((kb('VmRSS') * 1024) / 1e6, 1) };
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Rejects after `ms` (then calls `onTimeout`, e.g. to stop a load generator). */
export async function bounded<T>(what: string, ms: number, work: Promise<T>, onTimeout?: () => void) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** User + system CPU seconds a process has used so far (from /proc/<pid>/stat), or NaN. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** CPU seconds the whole machine has spent busy (every core; /proc/stat, steal included), or NaN. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (
      ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS
    );
  } catch {
    return Number.NaN;
  }
}

/**
 * Measures, over some work, the CPU the machine spent on anything but the given processes and
 * this one: other sessions' tests, PostgreSQL, the kernel. In cores (1.0 = one core all along).
 */
export function foreignLoad(pids: number[]): () => number {
  const pidsWithSelf = [...pids, process.pid];
  const ours = () => pidsWithSelf.reduce((sum, pid) => sum + (cpuSecondsOf(pid) || 0), 0);
  const busy0 = machineBusySeconds();
  const ours0 = ours();
  const t0 = process.hrtime.bigint();
  return () => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return round((machineBusySeconds() - busy0 - (ours() - ours0)) / seconds, 2);
  };
}
