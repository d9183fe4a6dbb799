import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import type { Metrics } from '../../metrics.js';
import type { Storage } from '../../storage/contract.js';
import type { CopyHandover, LeasedMessage, Settlement } from '../../storage/delivery-contract.js';
import type { Mapping } from '../../storage/mapping-contract.js';
import type { UrlPolicy } from '../../url-policy.js';
import { outboundAgent } from '../outbound.js';
import { type BreakerOptions, Breakers, originOf } from './breaker.js';
import { type Exchange, post } from './http.js';
import { type LaneLoad, leaseRoom } from './lease-room.js';
import { settle } from './outcome.js';
import { buildServiceRequest, parametersFor, type ServiceRequest } from './request.js';
import { StoreShares } from './store-shares.js';

/** A lease that skips saturated lanes runs at most this often (see step). */
const EXCLUDING_LEASE_EVERY_MS = 25;
/**
 * An excluding lease waits this many times its own duration before the next, if that is longer
 * than the interval: however many mappings it must seek and sort (each not skipped gives up to a
 * batch), it takes at most ~5 % of the process.
 */
const EXCLUDING_LEASE_COST_FACTOR = 20;
/**
 * A push routed at once is handed over only while fewer than this many deliveries are queued or
 * talking to their endpoints (those waiting for their settlement's commit do not count: during a
 * slow disk sync they pile up, and the hub is no busier for it).
 */
const HANDOVER_BELOW = 8;

/**
 * A copy's payload is read from its parent's row (copies share it, docs/storage.md); retention
 * keeps that row, so only a parent deleted by hand leaves a copy without one.
 */
const MISSING_PAYLOAD =
  'the payload of this message is missing: its parent message is no longer in the database';

export interface EngineOptions {
  /** Deliveries in flight in this process, over all mappings. */
  maxInFlight?: number;
  /** Messages leased per statement. */
  batch?: number;
  /**
   * How long a lease holds without a heartbeat. The engine renews its leases every third of this
   * while it holds them, so only a dead (or frozen) process lets them expire; then the sweeper
   * hands its messages to another worker. Default 30 s.
   */
  leaseMs?: number;
  /** The hub's caps on a mapping's concurrency and timeout, applied whatever the mapping asks. */
  caps?: { concurrency: number; timeoutMs: number };
  /** The endpoint URL policy, applied to every connection (none: connections are not checked). */
  urlPolicy?: UrlPolicy;
  /** The circuit breakers' threshold and cool-downs (breaker.ts); BREAKER_DEFAULTS otherwise. */
  breaker?: Partial<BreakerOptions>;
  /** The least time between two leases that skip saturated lanes (default 25 ms; see step). */
  excludingLeaseEveryMs?: number;
}

/**
 * The delivery worker of one process. `step()` (driven by a WorkerLoop) leases due messages in one
 * statement and hands each to its mapping's lane; a lane runs at most `options.concurrency`
 * deliveries at once and queues the rest in lease order. Every delivery runs with no transaction
 * open and always ends in a settlement (try/finally): completed, failing, scheduled, parked, or
 * released back to pending when the process shuts down. A crashed process settles nothing; its
 * leases expire and the sweeper returns the messages to pending, so delivery is at least once.
 */
export class DeliveryEngine {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private leaseSeq = 0;
  /** Connections obey the endpoint URL policy on the address they reach (pipeline/outbound.ts). */
  private readonly agent: Agent;
  private readonly lanes = new Map<
    string,
    {
      storeId: string;
      running: number;
      queue: LeasedMessage[];
      /** The POSTs in flight: shutdown aborts them once its grace runs out, a delete at once. */
      requests: Set<Exchange>;
      /** The mapping was deleted while copies were in flight (see abortDeleted). */
      deleted?: boolean;
      /** The mapping's concurrency, known once the lane has read its mapping (see leaseRoom). */
      limit?: number | undefined;
      retry?: NodeJS.Timeout | undefined;
    }
  >();
  /** Mappings by id, kept 2 s: changes made through this process are dropped at once (forgetMappings). */
  private readonly mappings = new Map<
    string,
    { storeId: string; mapping: Promise<Mapping | undefined>; at: number }
  >();
  /** Integration names by id (see integrationName). */
  private readonly integrationNames = new Map<string, Promise<string | null>>();
  private aborted = false;
  private inFlight = 0;
  /** Deliveries in flight whose HTTP exchange is not over (the rest wait for their settlement). */
  private exchanging = 0;
  private queued = 0;
  private stopping = false;
  private readonly maxInFlight: number;
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly caps: { concurrency: number; timeoutMs: number };
  private readonly excludingLeaseEveryMs: number;
  /** Lease tokens this process holds, with how many of their messages are not settled yet. */
  private readonly held = new Map<string, number>();
  /** Each store's share of the slots (store-shares.ts), and the lanes waiting for theirs. */
  private readonly shares: StoreShares;
  private readonly waitingForShare = new Set<string>();
  /** A circuit breaker per endpoint origin (breaker.ts), the lanes it holds, and their wake-up. */
  private readonly breakers: Breakers;
  private readonly heldByBreaker = new Set<string>();
  private breakerWake: NodeJS.Timeout | undefined;
  private breakerWakeAt = Number.POSITIVE_INFINITY;
  private readonly origins = new Map<string, string>();
  /** When the next lease that skips saturated lanes may run (see EXCLUDING_LEASE_COST_FACTOR). */
  private nextExcludingLease = 0;
  /** Wakes the loop when a lease that skips saturated lanes may run again. */
  private excludingWake: NodeJS.Timeout | undefined;
  /** The last step found no free slot; the next delivery to finish must wake the loop. */
  private starved = false;
  /** Slots promised to copies being written leased to us (handover), not yet delivered. */
  private reserved = 0;
  /**
   * Whether due messages may be waiting in the database. New copies are taken by handover only
   * while it is false, so they never jump ahead of older ones. It starts true (a restart may find
   * a backlog) and follows every lease: a lease that filled its limit, or had to skip saturated
   * lanes, may have left due messages behind; one that found fewer did not.
   */
  private backlog = true;
  /**
   * Counts the reservations that set `backlog`. A lease in flight cannot have seen the copies such
   * a reservation left pending, so it may clear the mark only if none happened while it ran.
   */
  private backlogMarks = 0;
  /** The limit of the lease statement in flight, if any: slots it may fill when it returns. */
  private leasing = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private idle: (() => void) | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly wake: { capacity: () => void; incoming: () => void },
    options: EngineOptions = {},
    private readonly metrics?: Metrics,
  ) {
    this.agent = outboundAgent(options.urlPolicy, {
      connections: 64,
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
    });
    this.maxInFlight = options.maxInFlight ?? 256;
    this.shares = new StoreShares(this.maxInFlight);
    this.breakers = new Breakers(
      {
        opened: (origin, failures, coolDownMs) => {
          this.metrics?.circuitsOpen.set(this.breakers.notClosed().size);
          this.log.warn(
            { origin, failures, cool_down_ms: coolDownMs },
            'endpoint circuit open: its copies are held, one probe after the cool-down',
          );
        },
        closed: (origin, members) => {
          this.metrics?.circuitsOpen.set(this.breakers.notClosed().size);
          this.log.info({ origin }, 'endpoint circuit closed: its copies are sent again');
          this.resumeHeld();
          void this.retryFailed(members);
        },
      },
      options.breaker,
    );
    this.batch = options.batch ?? 100;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.caps = options.caps ?? {
      concurrency: Number.POSITIVE_INFINITY,
      timeoutMs: Number.POSITIVE_INFINITY,
    };
    this.excludingLeaseEveryMs = options.excludingLeaseEveryMs ?? EXCLUDING_LEASE_EVERY_MS;
    this.heartbeat = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** Takes new copies in the transaction that creates them (see CopyHandover). */
  handover(): CopyHandover {
    return {
      reserve: (mappings, now, bulk) => {
        // A push routed at once is taken only by a nearly idle engine. At a modest load every
        // message is its own transactions, and the handover saves one of three (the lease) and a
        // sync per message. Under load it made things worse (push-and-deliver −38 %): copies
        // arriving one push batch at a time are delivered and settled in many small transactions,
        // where the lease statement would have gathered them into waves. An intake step's batch
        // is such a wave already: the engine takes it as a lease statement would, up to its free
        // slots, leaving out mappings whose lanes already have a queue (as the lease does).
        if (this.stopping || this.backlog) return undefined;
        // Never more than the free slots, counting those a lease in flight may fill. A push is
        // taken only while the engine is nearly idle. A lease in flight does not make it busy:
        // with no backlog it finds nothing older than the push. (Copies reserved earlier and not
        // handed over yet cannot be overtaken: every handover happens at its COMMIT, in order.)
        const waiting = this.queued + this.reserved;
        const nearlyIdle = HANDOVER_BELOW - this.exchanging - waiting;
        const room = Math.min(
          this.maxInFlight - this.inFlight - waiting - this.leasing,
          this.room() - this.leasing,
          bulk ? Number.POSITIVE_INFINITY : nearlyIdle,
        );
        const taken: number[] = [];
        for (let i = 0; i < mappings.length && taken.length < room; i++) {
          if (!this.lanes.get(mappings[i] ?? '')?.queue.length) taken.push(i);
        }
        // copies not taken are written pending: until a lease statement has taken them, later
        // copies must not be handed over ahead of them
        if (taken.length < mappings.length) {
          this.backlog = true;
          this.backlogMarks++;
        }
        if (taken.length === 0) return undefined;
        const lease = `${this.owner}:${++this.leaseSeq}`;
        this.reserved += taken.length;
        this.held.set(lease, taken.length); // renewed by the heartbeat from now on
        return { lease, taken, expiresAt: now + this.leaseMs };
      },
      deliver: (copies) => {
        this.reserved -= copies.length;
        // a commit that reserved before shutdown began and finished after it: hand them back
        // (stop() already emptied the lanes, and nothing would deliver them)
        if (this.stopping) for (const m of copies) void this.release(m);
        else for (const m of copies) this.enqueue(m);
      },
      cancel: (lease, take) => {
        this.reserved -= take;
        this.held.delete(lease);
      },
    };
  }

  async step(): Promise<number> {
    // copies held back (a share, an open circuit) fill no slot soon: leases go on for the others
    const free = this.maxInFlight - this.inFlight - (this.queued - this.heldBack()) - this.reserved;
    if (this.stopping) return 0;
    if (free <= 0) {
      // every slot is taken, some by deliveries still waiting for their settlement to commit:
      // the last of those to finish wakes the loop (see pump), so there is no poll-long stall
      this.starved = true;
      return 0;
    }
    const saturated = [...this.lanes.entries()].filter(([, l]) => l.queue.length > 0).map(([id]) => id);
    // A lease that must skip saturated lanes seeks each other mapping's due copies (storage:
    // candidatesSkipping), under a millisecond whatever the skipped backlog; before that index it
    // walked past the whole backlog (in the hub, ~100 ms of event loop per 100,000 copies). Still
    // not on every wake-up: at most every 25 ms (another mapping's message waits up to that long
    // behind a saturated lane), or 20 times its cost if that is longer (a hub with many mappings
    // holding due copies has many to seek and sort). The lane wakes the loop itself once its
    // queue is empty.
    const started = Date.now();
    if (saturated.length > 0 && started < this.nextExcludingLease) {
      // the wake-up that brought us here (a new copy of another mapping, say) must not be lost
      this.excludingWake ??= setTimeout(() => {
        this.excludingWake = undefined;
        this.wake.capacity();
      }, this.nextExcludingLease - started);
      this.excludingWake.unref();
      return 0;
    }
    const lease = `${this.owner}:${++this.leaseSeq}`;
    const marks = this.backlogMarks;
    const limit = Math.min(free, this.batch, this.room());
    if (limit <= 0) {
      // the lanes have a wave queued already: the next delivery to finish wakes the loop
      this.starved = true;
      return 0;
    }
    this.leasing = limit;
    let leased: LeasedMessage[];
    try {
      leased = await this.storage.leaseDeliveries(lease, limit, Date.now(), this.leaseMs, saturated);
    } finally {
      this.leasing = 0;
    }
    if (leased.length > 0) this.held.set(lease, leased.length);
    this.backlog = leased.length >= limit || saturated.length > 0 || marks !== this.backlogMarks;
    if (saturated.length > 0) {
      const now = Date.now();
      const pause = (now - started) * EXCLUDING_LEASE_COST_FACTOR;
      this.nextExcludingLease = now + Math.max(this.excludingLeaseEveryMs, pause);
    }
    for (const m of leased) this.enqueue(m);
    return leased.length;
  }

  /** Lanes held back by their store's share may start now that a slot was freed. */
  private resumeShares(): void {
    if (this.waitingForShare.size === 0) return;
    const waiting = [...this.waitingForShare];
    this.waitingForShare.clear();
    for (const key of waiting) void this.pump(key);
  }

  /** Copies queued in lanes held back by their store's share or a circuit: no slot soon. */
  private heldBack(): number {
    let n = 0;
    for (const key of this.waitingForShare) n += this.lanes.get(key)?.queue.length ?? 0;
    for (const key of this.heldByBreaker)
      if (!this.waitingForShare.has(key)) n += this.lanes.get(key)?.queue.length ?? 0;
    return n;
  }

  /** A mapping URL's origin, parsed once per URL (pump asks for every delivery). */
  private originOf(url: string): string {
    let origin = this.origins.get(url);
    if (origin === undefined) {
      origin = originOf(url);
      if (this.origins.size > 10_000) this.origins.clear();
      this.origins.set(url, origin);
    }
    return origin;
  }

  /** A lane whose origin's circuit is open waits until it may be probed. */
  private holdForBreaker(key: string, retryAt: number): void {
    this.heldByBreaker.add(key);
    if (retryAt >= this.breakerWakeAt) return;
    clearTimeout(this.breakerWake);
    this.breakerWakeAt = retryAt;
    this.breakerWake = setTimeout(
      () => {
        this.breakerWake = undefined;
        this.breakerWakeAt = Number.POSITIVE_INFINITY;
        this.resumeHeld();
      },
      Math.max(0, retryAt - Date.now()),
    );
    this.breakerWake.unref();
  }

  /** The lanes a circuit held try again (they hold themselves again while it stays open). */
  private resumeHeld(): void {
    const held = [...this.heldByBreaker];
    this.heldByBreaker.clear();
    for (const key of held) void this.pump(key);
  }

  /**
   * A circuit closed: the copies that failed at its origin meanwhile wait out their own backoff,
   * minutes for some; the endpoint is back, so they are made due now (as a retry by hand would).
   */
  private async retryFailed(members: Map<string, string>): Promise<void> {
    try {
      let n = 0;
      for (const [mappingId, storeId] of members)
        n += await this.storage.retryMatching(
          storeId,
          { mapping_id: mappingId, state: 'failing' },
          Date.now(),
        );
      if (n > 0) this.wake.capacity();
    } catch (err) {
      this.log.warn({ err }, 'making the copies of a recovered endpoint due failed; they wait their backoff');
    }
  }

  /** How many copies the lanes can start soon (see lease-room.ts): a lease takes no more. */
  private room(): number {
    const loads: LaneLoad[] = [];
    for (const lane of this.lanes.values())
      loads.push({ running: lane.running, queued: lane.queue.length, limit: lane.limit });
    return leaseRoom(loads) - this.reserved;
  }

  /** Stop leasing; wait up to `graceMs` for in-flight deliveries, then abort them (released, not counted). */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const lane of this.lanes.values()) {
      const waiting = lane.queue.splice(0);
      this.queued -= waiting.length;
      for (const m of waiting) await this.release(m);
    }
    if (this.inFlight > 0) {
      const idle = new Promise<void>((resolve) => {
        this.idle = resolve;
      });
      const timer = setTimeout(() => {
        this.aborted = true;
        for (const lane of this.lanes.values())
          for (const c of lane.requests) c.abort(new DOMException('shutting down', 'AbortError'));
      }, graceMs);
      await idle;
      clearTimeout(timer);
    }
    clearInterval(this.heartbeat);
    clearTimeout(this.excludingWake);
    clearTimeout(this.breakerWake);
    await this.agent.close();
  }

  private enqueue(m: LeasedMessage): void {
    const key = m.mapping_id ?? '';
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { storeId: m.store_id, running: 0, queue: [], requests: new Set() };
      this.lanes.set(key, lane);
    }
    lane.queue.push(m);
    this.queued++;
    void this.pump(key);
  }

  private async pump(key: string): Promise<void> {
    const lane = this.lanes.get(key);
    const head = lane?.queue[0];
    if (!lane || !head) return;
    let mapping: Mapping | undefined;
    try {
      mapping = await this.mapping(head.store_id, key);
    } catch (err) {
      // the lane keeps its copies (leased to us) and tries again shortly, once for the whole lane
      if (!lane.retry) {
        this.log.error({ err, mapping_id: key }, 'reading a mapping failed; retrying its lane in 1 s');
        lane.retry = setTimeout(() => {
          lane.retry = undefined;
          void this.pump(key);
        }, 1000);
        lane.retry.unref();
      }
      return;
    }
    const limit = Math.min(mapping?.options.concurrency ?? 1, this.caps.concurrency);
    lane.limit = limit;
    while (lane.queue.length > 0 && lane.running < limit && !this.stopping) {
      const m = lane.queue[0]!;
      const origin = mapping ? this.originOf(mapping.url) : '';
      if (!this.shares.mayStart(m.store_id, origin)) {
        // the store, or its endpoint, holds its share of the slots: the lane waits for one to end
        this.waitingForShare.add(key);
        break;
      }
      const admitted = mapping ? this.breakers.admit(origin, Date.now()) : undefined;
      if (admitted?.verdict === 'no') {
        // the endpoint's circuit is open: the lane's copies wait, not attempted (breaker.ts)
        this.holdForBreaker(key, admitted.retryAt);
        break;
      }
      lane.queue.shift();
      this.queued--;
      this.shares.started(m.store_id, origin);
      lane.running++;
      this.inFlight++;
      this.exchanging++;
      // The lane slot is freed when the HTTP exchange is over; the settlement (a group commit)
      // finishes on its own, so a slow commit does not hold the endpoint's concurrency idle.
      let freed = false;
      const free = () => {
        if (freed) return;
        freed = true;
        this.exchanging--;
        this.shares.ended(m.store_id, origin);
        this.resumeShares();
        lane.running--;
        if (lane.running === 0 && lane.queue.length === 0) this.lanes.delete(key);
        else void this.pump(key);
        // Lease again only once this lane has room to spare. Waking per finished delivery would run
        // the lease statement for a handful of rows each time, and while a lane is saturated the
        // statement has to skip its whole backlog to find other mappings' messages.
        if (lane.queue.length === 0) this.wake.capacity();
      };
      void this.deliver(m, mapping, free, lane).finally(() => {
        free();
        this.inFlight--;
        if (this.inFlight === 0) this.idle?.();
        if (this.starved) {
          this.starved = false;
          this.wake.capacity();
        }
      });
      // a half-open circuit's one probe: nothing more to this origin until it has answered
      if (admitted?.verdict === 'probe') break;
    }
  }

  private async deliver(
    m: LeasedMessage,
    mapping: Mapping | undefined,
    free: () => void,
    lane: { requests: Set<Exchange>; deleted?: boolean },
  ): Promise<void> {
    let settlement: Settlement | undefined;
    let reported = false;
    try {
      if (!mapping) {
        settlement = parked(m, 'the mapping of this message was deleted');
        return;
      }
      // A request that cannot be built now never will be (the row itself is damaged): released,
      // the copy would be leased straight back, over and over. Park it for a person instead.
      if (typeof m.payload !== 'string') {
        settlement = parked(m, MISSING_PAYLOAD);
        return;
      }
      const now = Date.now();
      const integration = mapping.integration_id
        ? await this.integrationName(m.store_id, mapping.integration_id)
        : null;
      // most mappings take no parameters: skip the read entirely then
      const wantsParameters = mapping.parameters ? mapping.parameters.length > 0 : integration !== null;
      const all = wantsParameters ? await this.storage.listParameters(m.store_id) : [];
      const params = parametersFor(mapping, all, integration);
      let req: ServiceRequest;
      try {
        req = buildServiceRequest(m, mapping, params, now);
      } catch (err) {
        settlement = parked(m, `the request to the endpoint could not be built: ${(err as Error).message}`);
        return;
      }
      const timeoutMs = Math.min(mapping.options.timeout_ms, this.caps.timeoutMs);
      const result = await post(this.agent, req, timeoutMs, lane.requests);
      free();
      if (result.error && lane.deleted) {
        settlement = parked(m, 'the mapping of this message was deleted while it was being delivered');
        return;
      }
      if (result.error && this.aborted) {
        settlement = released(m);
        return;
      }
      const failed = result.error !== undefined || (result.status ?? 0) >= 500;
      this.breakers.result(this.originOf(mapping.url), !failed, m.store_id, mapping.id, Date.now());
      reported = true;
      settlement = settle(m, mapping, result, Date.now(), Math.random());
    } catch (err) {
      this.log.error({ err, message_id: m.id }, 'delivery failed unexpectedly; releasing the message');
      settlement = released(m);
    } finally {
      if (mapping && !reported) this.breakers.abandon(this.originOf(mapping.url), Date.now());
      this.unhold(m.lease_owner);
      if (settlement) {
        try {
          const held = await this.storage.settle(settlement);
          if (held) this.metrics?.delivered.inc({ outcome: settlement.outcome.kind });
          if (held && (settlement.children.length > 0 || settlement.notifications.length > 0))
            this.wake.incoming();
          // The next copy with this ordering key becomes due only now, once this one has left the
          // accepted queue: the lease that followed the POST's end found nothing, and without a
          // wake-up the next one went out at the next poll (one copy a second per key).
          if (held && m.ordering_key !== null && m.ordering_key !== undefined) this.wake.capacity();
          if (!held)
            this.log.warn(
              { message_id: m.id },
              'lease lost before settling; the message will be delivered again',
            );
        } catch (err) {
          this.log.error(
            { err, message_id: m.id },
            'settling a delivery failed; its lease will expire and it will be retried',
          );
        }
      }
    }
  }

  /**
   * A store's mappings changed through this process: the deliveries in flight for a mapping that
   * no longer exists are aborted at once, and their copies parked as any copy of a deleted
   * mapping is (docs/delivery.md), instead of holding their slots until the endpoint answers or
   * the timeout runs out. Other processes' deliveries run to their end (bounded by the timeout).
   */
  async abortDeleted(storeId: string): Promise<void> {
    for (const [id, lane] of this.lanes) {
      if (lane.requests.size === 0 || lane.deleted) continue;
      if (lane.storeId !== storeId) continue;
      if (await this.storage.getMapping(storeId, id)) continue;
      lane.deleted = true;
      for (const c of lane.requests) c.abort(new DOMException('mapping deleted', 'AbortError'));
    }
  }

  /** The circuit breakers, for the API (routes/endpoints.ts). */
  readonly circuits = {
    state: (origin: string) => this.breakers.state(origin),
    reset: (origin: string) => this.breakers.reset(origin),
  };

  /** Forget cached mappings of a store (its mappings changed in this process). */
  forgetMappings(storeId: string): void {
    for (const [id, entry] of this.mappings) {
      if (entry.storeId === storeId) this.mappings.delete(id);
    }
  }

  private mapping(storeId: string, id: string): Promise<Mapping | undefined> {
    const cached = this.mappings.get(id);
    const now = Date.now();
    if (cached && now - cached.at < 2000) return cached.mapping;
    // The promise is cached, not its value: a lease's hundred copies enqueued at once share one
    // read when the entry has expired, instead of a read each.
    const mapping = this.storage.getMapping(storeId, id);
    if (this.mappings.size > 10_000) this.mappings.clear();
    const entry = { storeId, mapping, at: now };
    this.mappings.set(id, entry);
    mapping.catch(() => {
      if (this.mappings.get(id) === entry) this.mappings.delete(id);
    });
    return mapping;
  }

  /**
   * The name of the integration that owns a mapping, whose `<name>.` parameters the deliveries
   * carry by default. Read from the integration, not the mapping's name: a mapping renamed by hand
   * (the API allows it) carried none of its integration's parameters, or another integration's
   * secrets when the new name began with that one's. An integration's name never changes, so it
   * is kept for the life of the process (an integration's deletion deletes its mappings).
   */
  private integrationName(storeId: string, integrationId: string): Promise<string | null> {
    let name = this.integrationNames.get(integrationId);
    if (!name) {
      name = this.storage.getIntegration(storeId, integrationId).then((i) => i?.name ?? null);
      if (this.integrationNames.size > 10_000) this.integrationNames.clear();
      this.integrationNames.set(integrationId, name);
      name.catch(() => this.integrationNames.delete(integrationId));
    }
    return name;
  }

  private async release(m: LeasedMessage): Promise<void> {
    this.unhold(m.lease_owner);
    await this.storage.settle(released(m)).catch(() => {});
  }

  private unhold(lease: string): void {
    const left = (this.held.get(lease) ?? 1) - 1;
    if (left <= 0) this.held.delete(lease);
    else this.held.set(lease, left);
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.storage.renewLeases([...this.held.keys()], Date.now() + this.leaseMs);
    } catch (err) {
      this.log.warn({ err }, 'renewing leases failed; will try again at the next heartbeat');
    }
  }
}

/** Hands a leased copy back to pending untouched: no attempt is counted (shutdown, a damaged row). */
function released(m: LeasedMessage): Settlement {
  return {
    id: m.id,
    store_id: m.store_id,
    lease: m.lease_owner,
    now: Date.now(),
    outcome: { kind: 'released' },
    children: [],
    notifications: [],
    parameters: [],
  };
}

function parked(m: LeasedMessage, reason: string): Settlement {
  return {
    id: m.id,
    store_id: m.store_id,
    lease: m.lease_owner,
    now: Date.now(),
    outcome: { kind: 'parked', last_error: reason, reason },
    children: [],
    notifications: [],
    parameters: [],
  };
}
