import { createRequire } from 'node:module';

/**
 * Preloaded into a profiled hub (`node --import dist/bench/sql-probe.js`), never into a measured
 * one: wraps better-sqlite3's Statement.run/all/get to add up the wall time spent in each SQL text
 * (SQLite runs on the event-loop thread, so this is time the loop is blocked, COMMIT's fsync
 * included). Answers {cmd: 'sql-stats'} over the IPC channel.
 */
interface Stat {
  calls: number;
  ns: bigint;
  maxNs: bigint;
}

if (process.send) {
  const require = createRequire(`${process.cwd()}/package.json`);
  const Database = require('better-sqlite3') as new (
    file: string,
  ) => {
    prepare(sql: string): object;
    close(): void;
  };
  const scratch = new Database(':memory:');
  const proto = Object.getPrototypeOf(scratch.prepare('SELECT 1')) as Record<string, unknown>;
  scratch.close();
  const stats = new Map<string, Stat>();
  const keyOf = (sql: string) =>
    sql
      .replace(/\s+/g, ' ')
      .replace(/\(\?(, \?)*\)(, \(\?(, \?)*\))*/g, '(?…)')
      .replace(/"/g, '')
      .slice(0, 120);
  for (const method of ['run', 'all', 'get']) {
    const original = proto[method] as (...args: unknown[]) => unknown;
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      const t0 = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const key = keyOf(this.source);
        const s = stats.get(key) ?? { calls: 0, ns: 0n, maxNs: 0n };
        const ns = process.hrtime.bigint() - t0;
        s.calls++;
        s.ns += ns;
        if (ns > s.maxNs) s.maxNs = ns;
        stats.set(key, s);
      }
    };
  }
  process.on('message', (m: { id?: number; cmd?: string }) => {
    if (m?.cmd === 'sql-reset') {
      stats.clear();
      process.send?.({ id: m.id, value: true });
    } else if (m?.cmd === 'sql-stats') {
      const value = [...stats.entries()]
        .sort((a, b) => Number(b[1].ns - a[1].ns))
        .slice(0, 15)
        .map(([sql, s]) => ({
          sql,
          calls: s.calls,
          totalMs: Math.round(Number(s.ns) / 1e6),
          avgUs: Math.round(Number(s.ns) / 1e3 / s.calls),
          maxMs: Math.round(Number(s.maxNs) / 1e5) / 10,
        }));
      process.send?.({ id: m.id, value });
    }
  });
}
