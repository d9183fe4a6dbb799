import { readFileSync } from 'node:fs';
import { ROOT } from './processes.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  /** Share of the busy (non-idle) samples, percent. */
  share: number;
  ms: number;
}

export interface ProfileSummary {
  file: string;
  seconds: number;
  /** Share of the wall time the process was on CPU (not idle), percent. */
  busy: number;
  functions: HotSpot[];
  modules: HotSpot[];
}

/**
 * Self time from a V8 .cpuprofile (written by `node --cpu-prof`): per function (name and
 * location) and per module (a package in node_modules, a file of ours, node's internals, GC),
 * as shares of the samples in which the process was not idle.
 */
export function summariseProfile(
  file: string,
  top = 15,
  window?: { fromUs: number; toUs: number },
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // Sample times are CLOCK_MONOTONIC µs, the clock of process.hrtime: the window (the load, not
  // the start-up) applies directly. A window outside the profile is ignored.
  const from =
    window && window.fromUs < profile.endTime
      ? Math.max(window.fromUs, profile.startTime)
      : profile.startTime;
  const to =
    window && window.toUs > profile.startTime ? Math.min(window.toUs, profile.endTime) : profile.endTime;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) continue;
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    busyUs += us;
    const where = shortUrl(frame.url);
    const fn = where.endsWith('bench/sql-probe.js')
      ? frame.functionName === 'keyOf'
        ? '(SQL probe overhead)'
        : 'SQLite statements (better-sqlite3 run/all/get, native)'
      : `${frame.functionName || '(anonymous)'}${where ? ` ${where}:${frame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    const mod = where.endsWith('bench/sql-probe.js') ? fn : moduleOf(frame.functionName, where);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        share: Math.round((us / busyUs) * 1000) / 10,
        ms: Math.round(us / 1000),
      }));
  const wallUs = to - from;
  return {
    file: file.replace(ROOT, ''),
    seconds: Math.round(wallUs / 1e5) / 10,
    busy: Math.round((busyUs / wallUs) * 1000) / 10,
    functions: rank(functions),
    modules: rank(modules),
  };
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, '').replace(ROOT, '');
}

function moduleOf(functionName: string, where: string): string {
  if (!where) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (pkg) return pkg[1]!;
  if (where.startsWith('node:')) return `node:${where.slice(5).split('/')[1] ?? where.slice(5)}`;
  return where;
}
