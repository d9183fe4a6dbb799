import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/**
 * Preloaded into processes the harness starts but does not own (`node --import
 * dist/bench/eld-probe.js …`, i.e. the hub): measures event-loop delay and garbage-collection
 * pauses without touching src/, and answers the harness over the IPC channel. It also ends the
 * process if the harness goes away (the IPC channel closes), so a killed harness leaves no hub.
 */
if (process.send) {
  const RESOLUTION_MS = 5;
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  // The histogram records the whole interval between timer turns; the delay is what exceeds it.
  const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
  const gc = { count: 0, totalMs: 0, maxMs: 0, major: 0, majorMaxMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.major++;
        gc.majorMaxMs = Math.max(gc.majorMaxMs, entry.duration);
      }
    }
  }).observe({ entryTypes: ['gc'] });
  const r1 = (n: number) => Math.round(n * 10) / 10;
  // the largest of each memory figure seen, sampled every 50 ms: which part makes the peak RSS
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  setInterval(() => {
    const u = process.memoryUsage();
    for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], u[k]);
  }, 50).unref();

  process.on('message', (m: { id?: number; cmd?: string }) => {
    if (m?.cmd === 'eld-reset') {
      histogram.reset();
      Object.assign(gc, { count: 0, totalMs: 0, maxMs: 0, major: 0, majorMaxMs: 0 });
      process.send?.({ id: m.id, value: true });
    } else if (m?.cmd === 'eld-read') {
      const value = {
        p50: ms(histogram.percentile(50)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
        mean: ms(histogram.mean),
        gc: { ...gc, totalMs: r1(gc.totalMs), maxMs: r1(gc.maxMs), majorMaxMs: r1(gc.majorMaxMs) },
      };
      process.send?.({ id: m.id, value });
    } else if (m?.cmd === 'memory') {
      const mb = (n: number) => Math.round(n / 1e5) / 10;
      const u = process.memoryUsage();
      const value = {
        rss: mb(u.rss),
        heapTotal: mb(u.heapTotal),
        heapUsed: mb(u.heapUsed),
        external: mb(u.external),
      };
      const peaks = Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, mb(v)]));
      process.send?.({ id: m.id, value: { ...value, arrayBuffers: mb(u.arrayBuffers), peak: peaks } });
    }
  });
  process.on('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 15_000).unref();
  });
}
