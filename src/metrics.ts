import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one hub process (each process exposes its own; Prometheus scrapes them
 * all). Labels are bounded on purpose: the route pattern, never the URL; the outcome kind, never
 * a store, mapping or message id.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'switchyard_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly pushed = new Counter({
    name: 'switchyard_messages_pushed_total',
    help: 'Messages accepted by the push API (answered 201, replays not counted)',
    registers: [this.registry],
  });
  readonly routed = new Counter({
    name: 'switchyard_intake_messages_total',
    help: 'Incoming messages processed by intake, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly delivered = new Counter({
    name: 'switchyard_deliveries_total',
    help: 'Delivery attempts settled, by outcome (completed, failing, parked, scheduled, released)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly circuitsOpen = new Gauge({
    name: 'switchyard_delivery_circuits_open',
    help: 'Endpoint origins whose circuit breaker is open or half-open in this process (their copies are held)',
    registers: [this.registry],
  });

  readonly walSync = new Histogram({
    name: 'switchyard_sqlite_wal_sync_seconds',
    help: 'fdatasync of the SQLite WAL that makes commits durable (each may cover many commits)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  /**
   * The request histogram's child per (method, route, status): prom-client hashes a label object
   * on every observe, a noticeable share of a push's CPU; the set of children is small and bounded
   * (route patterns, not URLs).
   */
  private readonly requestSeries = new Map<string, { observe(seconds: number): void }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_' });
  }

  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    const key = `${method} ${statusCode} ${route}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      series = this.httpDuration.labels({ method, route, status_code: String(statusCode) });
      this.requestSeries.set(key, series);
    }
    series.observe(seconds);
  }
}
