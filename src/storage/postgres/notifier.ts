import pg from 'pg';

export type WakeChannel = 'incoming' | 'accepted';
export const WAKE_CHANNEL = 'switchyard_wake';

/**
 * LISTEN/NOTIFY wake-ups between hub processes sharing a PostgreSQL database. Writers call
 * `pg_notify('switchyard_wake', 'incoming' | 'accepted')` inside the transaction that made the
 * work, so the notification goes out only if the work was committed.
 *
 * The listener owns one dedicated client (never a pooled one: the pool may recycle it and drop the
 * LISTEN). States: connecting → listening → (error, end or a failed heartbeat) → waiting to
 * reconnect with a doubling delay → connecting … After every (re)connect it reports a catch-up
 * wake-up for both queues, since notifications sent while it was away are lost. Missing a
 * notification only costs latency: the workers also poll.
 */
export class PgNotifier {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = 250;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly onWake: (channel: WakeChannel) => void,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.url });
    this.client = client;
    let failed = false;
    const fail = (err: Error) => {
      if (failed || this.stopped) return;
      failed = true;
      this.onError(err);
      clearInterval(this.heartbeat);
      client.end().catch(() => {});
      this.reconnectTimer = setTimeout(() => void this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('LISTEN connection ended')));
    client.on('notification', (n) => {
      if (n.payload === 'incoming' || n.payload === 'accepted') this.onWake(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WAKE_CHANNEL}`);
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.retryMs = 250;
    // A dead TCP connection can go unnoticed for a long time; a cheap query with a deadline finds it.
    this.heartbeat = setInterval(() => {
      const timer = setTimeout(() => fail(new Error('LISTEN heartbeat timed out')), 5000);
      client.query('SELECT 1').then(
        () => clearTimeout(timer),
        (err: Error) => {
          clearTimeout(timer);
          fail(err);
        },
      );
    }, 15_000);
    this.onWake('incoming');
    this.onWake('accepted');
  }
}
