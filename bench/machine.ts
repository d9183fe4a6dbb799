import { spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { percentiles } from './stats.js';

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** fdatasync of a 4 KiB append in the temp directory, ms: what a durable SQLite commit waits for. */
  fsync: { p50: number; p99: number };
  /** The same at the end of the run (other sessions' disk traffic shows here). */
  fsyncAtEnd?: { p50: number; p99: number };
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
}

/** Which code was measured: the commit, and how many files under src/ differ from it. */
export function describeSource(root: string): { commit: string; changedSrcFiles: number } {
  const git = (args: string[]) =>
    spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
  const changed = git(['status', '--porcelain', '--', 'src']);
  return {
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    changedSrcFiles: changed ? changed.split('\n').length : 0,
  };
}

export function describeMachine(): Machine {
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim()) || availableParallelism();
  return {
    nproc,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    fsync: fsyncLatency(),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export function fsyncLatency(): { p50: number; p99: number } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-fsync-'));
  const fd = openSync(join(dir, 'f'), 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      writeSync(fd, block);
      const t0 = process.hrtime.bigint();
      fdatasyncSync(fd);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  const { p50, p99 } = percentiles(times);
  return { p50, p99 };
}
