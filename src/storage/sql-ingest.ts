import type { Kysely, Transaction } from 'kysely';
import type {
  AcceptedCopy,
  IntakeDecision,
  MessageRecord,
  PushOutcome,
  PushRequest,
  PushRouting,
} from './contract.js';
import type { CopyHandover, LeasedMessage } from './delivery-contract.js';
import type { Dialect } from './dialect.js';
import { type Committed, GroupCommitter } from './group-commit.js';
import type { WakeChannel } from './postgres/notifier.js';
import type { DB } from './schema.js';
import { claimQuery, copyRow, incomingRow, storedRow } from './sql-messages.js';

type Tx = Transaction<DB>;
type MessageRow = DB['messages'];

/**
 * Every push batch lets the next one commit while it waits for its disk sync (group-commit.ts;
 * each push is still answered only after the sync that covers its own commit). Until the ninth
 * session only batches under 8 did, so that under a saturating load the pushes arriving during a
 * sync piled up into one larger transaction; but the core then idled through each sync, and
 * committing them at once, in more and smaller transactions that share the coalesced syncs,
 * answered 6 % more pushes a second (bench/probes/ab.ts, 6 rounds, 23,582 against 22,229 req/s, the same
 * p99), with end-to-end latency at 500/s and push-and-deliver unchanged.
 */
const PUSH_OVERLAP_BELOW = Number.POSITIVE_INFINITY;

function byIdempotencyKey(a: PushRequest, b: PushRequest): number {
  const x = `${a.message.store_id}\u0000${a.idempotency!.key}`;
  const y = `${b.message.store_id}\u0000${b.idempotency!.key}`;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Why a message that made no copy was skipped: all its copies were duplicates, or the router's reason. */
function skipReason(decision: IntakeDecision, duplicates: number): string {
  return duplicates > 0 ? 'duplicate' : (decision.reason ?? 'no mapping');
}

/** Copies written already leased in a transaction, to hand to the engine once it commits. */
interface Reservation {
  handover: CopyHandover;
  lease: string;
  rows: MessageRow[];
}

/**
 * The write side of the two first stages: pushes into the incoming queue (group-committed, with
 * idempotency keys) and intake's atomic application of routing decisions.
 */
export class SqlIngest {
  private readonly pushes: GroupCommitter<PushRequest, PushOutcome>;
  /** (store, type) pairs already recorded in message_types_seen by this process. */
  private readonly seenTypes = new Set<string>();
  private routing: PushRouting | undefined;
  private handover: CopyHandover | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    private readonly notify: (trx: Tx, channel: WakeChannel) => Promise<void>,
  ) {
    this.pushes = new GroupCommitter((batch) => this.commitPushes(batch), 500, 0, PUSH_OVERLAP_BELOW);
  }

  drain(): Promise<void> {
    return this.pushes.drain();
  }

  push(request: PushRequest): Promise<PushOutcome> {
    return this.pushes.submit(request);
  }

  routePushes(routing: PushRouting | undefined): void {
    this.routing = routing;
  }

  /**
   * Something other than a routed push is entering the incoming queue (see PushRouting.deferred):
   * SqlStorage calls this for every `incoming` notification, queued pushes included.
   */
  incomingQueued(): void {
    this.routing?.deferred();
  }

  handOverCopies(handover: CopyHandover | undefined): void {
    this.handover = handover;
  }

  /**
   * Inside the transaction that creates `copies`: the first ones the engine reserves are written
   * leased to it. Only plain pending copies qualify — a copy with an ordering key may have to wait
   * behind an earlier one, which only the lease statement knows.
   */
  private reserveCopies(copies: MessageRow[], now: number, bulk: boolean): Reservation | undefined {
    const handover = this.handover;
    if (!handover) return undefined;
    const eligible = copies.filter((c) => c.queue_name === 'accepted' && c.ordering_key === null);
    if (eligible.length === 0) return undefined;
    const r = handover.reserve(
      eligible.map((c) => c.mapping_id),
      now,
      bulk,
    );
    if (!r) return undefined;
    const rows = r.taken.map((i) => eligible[i]!);
    for (const c of rows) {
      c.state = 'running';
      c.lease_owner = r.lease;
      c.lease_expires_at = r.expiresAt;
      c.locked_at = now;
    }
    return { handover, lease: r.lease, rows };
  }

  /**
   * Runs `work` in a transaction; copies it reserved go to the engine after the commit. Through
   * `db` = the early connection (Dialect.early) that is right after COMMIT, before the sync:
   * a delivery acknowledges nothing, so it need not wait for the disk (after a power cut the push
   * would be gone, unanswered, and the copy only delivered again if pushed again). Handovers then
   * reach the engine in commit order: each runs a few promise turns after its COMMIT, before the
   * next transaction, which needs many more to reach its own, can hand anything over.
   */
  private async withHandover<T>(
    work: (trx: Tx, reserved: Reservation[]) => Promise<T>,
    db: Kysely<DB> = this.db,
  ): Promise<T> {
    const reserved: Reservation[] = [];
    let result: T;
    try {
      result = await db.transaction().execute((trx) => work(trx, reserved));
    } catch (err) {
      for (const r of reserved) r.handover.cancel(r.lease, r.rows.length);
      throw err;
    }
    for (const r of reserved) r.handover.deliver(r.rows as unknown as LeasedMessage[]);
    return result;
  }

  /**
   * Routing decisions for a push batch, made before its transaction opens (the router may read
   * the database), or none: when intake is not ready, or the router fails — then the pushes go to
   * the incoming queue and intake routes them as usual.
   */
  private async decidePushes(rows: MessageRow[]): Promise<Map<string, IntakeDecision> | undefined> {
    const routing = this.routing;
    if (!routing?.ready()) return undefined;
    try {
      const decisions = await routing.decide(rows as MessageRecord[]);
      return new Map(decisions.map((d) => [d.id, d]));
    } catch {
      return undefined;
    }
  }

  private async commitPushes(batch: PushRequest[]): Promise<PushOutcome[] | Committed<PushOutcome>> {
    const newTypes = new Set<string>();
    // each push's row, made once: routed at push time, it is completed in place before the insert
    const candidates = batch.map((req) => incomingRow(req.message));
    const decided = await this.decidePushes(candidates);
    const applied: IntakeDecision[] = [];
    const now = Date.now();
    const early = this.dialect.early;
    const outcomes = await this.withHandover(async (trx, reserved) => {
      const outcomes: PushOutcome[] = [];
      const rows: MessageRow[] = [];
      const copies: MessageRow[] = [];
      // Keys are claimed in one order, (store, key), whatever the order of the pushes: two hub
      // processes whose batches held the same keys in opposite orders (a client retrying through
      // a load balancer) each waited for the other's key, and PostgreSQL's deadlock detector
      // failed one batch, every push in it.
      const claimed = new Map<PushRequest, boolean>();
      for (const req of batch.filter((r) => r.idempotency).sort(byIdempotencyKey))
        claimed.set(req, await this.claimIdempotencyKey(trx, req));
      for (const [i, req] of batch.entries()) {
        if (req.idempotency && !claimed.get(req)) {
          const prior = await trx
            .selectFrom('idempotency_keys')
            .select('response')
            .where('store_id', '=', req.message.store_id)
            .where('key', '=', req.idempotency.key)
            .executeTakeFirstOrThrow();
          outcomes.push({ kind: 'replayed', response: prior.response });
          continue;
        }
        const row = candidates[i]!;
        const decision = decided?.get(row.id);
        if (decision) {
          await this.settleRouted(trx, row, decision, now, copies);
          applied.push(decision);
        }
        rows.push(row);
        outcomes.push({ kind: 'created', routed: decision !== undefined });
        const seenKey = `${req.message.store_id}\u0000${req.message.message}`;
        if (!this.seenTypes.has(seenKey)) newTypes.add(seenKey);
      }
      const reservation = this.reserveCopies(copies, now, false);
      if (reservation) reserved.push(reservation);
      await this.insertMessages(trx, rows.concat(copies));
      if (rows.some((r) => r.queue_name === 'incoming')) await this.notify(trx, 'incoming');
      if (copies.some((c) => c.queue_name === 'accepted' && c.state === 'pending'))
        await this.notify(trx, 'accepted');
      if (newTypes.size > 0) {
        // sorted for the same reason as the keys: another process may insert some of these too
        const values = [...newTypes].sort().map((k) => {
          const [store_id, message] = k.split('\u0000') as [string, string];
          return { store_id, message };
        });
        await trx
          .insertInto('message_types_seen')
          .values(values)
          .onConflict((oc) => oc.columns(['store_id', 'message']).doNothing())
          .execute();
      }
      return outcomes;
    }, early?.db);
    for (const k of newTypes) this.seenTypes.add(k);
    if (applied.length > 0) this.routing?.applied(applied);
    // the pushes are answered once the commit is on disk
    return early ? { results: outcomes, durable: early.durable() } : outcomes;
  }

  /**
   * A push routed in its own commit: its row is written already in the state intake would have
   * left it in (archived completed, skipped or invalid), and its copies are added to `copies`.
   */
  private async settleRouted(
    trx: Tx,
    row: MessageRow,
    decision: IntakeDecision,
    now: number,
    copies: MessageRow[],
  ): Promise<void> {
    row.queue_name = 'archived';
    row.source = 'incoming';
    row.state = 'completed';
    row.completed_at = now;
    if (decision.invalid) {
      row.state = 'invalid';
      row.reason = decision.invalid;
      return;
    }
    const made = await this.makeCopies(trx, row as MessageRecord, decision, now, copies);
    if (made.taken === 0) {
      row.state = 'skipped';
      row.reason = skipReason(decision, made.duplicates);
    }
  }

  /** Copy rows for a decision (identifier keys taken; a held key makes a skipped duplicate child). */
  private async makeCopies(
    trx: Tx,
    incoming: MessageRecord,
    decision: IntakeDecision,
    now: number,
    out: MessageRow[],
  ): Promise<{ taken: number; duplicates: number }> {
    let taken = 0;
    let duplicates = 0;
    for (const copy of decision.copies) {
      const duplicate = copy.dedup ? !(await this.takeIdentifierKey(trx, copy, now)) : false;
      out.push(copyRow(incoming, copy, now, duplicate));
      if (duplicate) duplicates++;
      else taken++;
    }
    return { taken, duplicates };
  }

  /** True when this request now owns the key; false when an unexpired earlier request holds it. */
  private async claimIdempotencyKey(trx: Tx, req: PushRequest): Promise<boolean> {
    const idem = req.idempotency!;
    await trx
      .deleteFrom('idempotency_keys')
      .where('store_id', '=', req.message.store_id)
      .where('key', '=', idem.key)
      .where('created_at', '<', idem.expires_before)
      .execute();
    const res = await trx
      .insertInto('idempotency_keys')
      .values({
        store_id: req.message.store_id,
        key: idem.key,
        message_id: req.message.id,
        response: idem.response,
        created_at: req.message.created_at,
      })
      .onConflict((oc) => oc.columns(['store_id', 'key']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  private async insertMessages(trx: Tx, rows: MessageRow[]): Promise<void> {
    if (this.dialect.insertMessageRows) {
      this.dialect.insertMessageRows(rows);
      return;
    }
    for (let i = 0; i < rows.length; i += this.dialect.insertChunk) {
      await trx
        .insertInto('messages')
        .values(rows.slice(i, i + this.dialect.insertChunk).map(storedRow))
        .execute();
    }
  }

  // ---- intake --------------------------------------------------------------------------------

  async intake(
    limit: number,
    decide: (batch: MessageRecord[]) => IntakeDecision[] | Promise<IntakeDecision[]>,
    now: number,
  ): Promise<number> {
    if (this.dialect.intakeMode === 'lock-in-transaction') {
      return this.withHandover(async (trx, reserved) => {
        // One intake step at a time across every hub process. Side by side, B could route a later
        // message while A still held an earlier one with the same ordering key (SKIP LOCKED passes
        // it by); B's copy committed first, nothing visible was ahead of it, and it was delivered
        // before A's. Serialized, a step claims only after the previous one committed, and makes
        // its copies' ids after those (UUIDv7, same clock: the order the lease relies on).
        // Intake is a short transaction next to the deliveries; a queue of them costs little.
        await this.dialect.lock?.(trx, 'intake');
        const batch = await claimQuery(trx, limit).forUpdate().skipLocked().execute();
        if (batch.length === 0) return 0;
        const decisions = await decide(batch);
        await this.applyDecisions(trx, batch, decisions, now, reserved);
        return batch.length;
      });
    }
    const batch = await claimQuery(this.db, limit).execute();
    if (batch.length === 0) return 0;
    const decisions = await decide(batch);
    // Like a push batch, the step hands its copies over at COMMIT and then waits for the sync, so
    // every handover reaches the engine in commit order (a push's never overtakes an older intake
    // step's) and the intake loop stays paced by the disk as before.
    const early = this.dialect.early;
    await this.withHandover(
      (trx, reserved) => this.applyDecisions(trx, batch, decisions, now, reserved),
      early?.db,
    );
    await early?.durable();
    return batch.length;
  }

  /**
   * Applies a batch of routing decisions with a handful of statements, not a few per message: one
   * UPDATE claims every incoming message of the batch (archived `completed`, guarded by
   * `queue_name = 'incoming'`, RETURNING the ones this call owns), one multi-row INSERT adds all
   * copies, and one UPDATE per distinct reason re-labels the skipped and invalid ones.
   */
  private async applyDecisions(
    trx: Tx,
    batch: MessageRecord[],
    decisions: IntakeDecision[],
    now: number,
    reserved: Reservation[],
  ): Promise<void> {
    const byId = new Map(batch.map((m) => [m.id, m]));
    const owned = new Set<string>();
    const ids = decisions.map((d) => d.id).filter((id) => byId.has(id));
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await trx
        .updateTable('messages')
        .set({ queue_name: 'archived', source: 'incoming', state: 'completed', completed_at: now })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('queue_name', '=', 'incoming')
        .returning('id')
        .execute();
      for (const r of rows) owned.add(r.id);
    }

    const copies: MessageRow[] = [];
    const relabel = new Map<string, { state: 'skipped' | 'invalid'; ids: string[] }>();
    const mark = (state: 'skipped' | 'invalid', reason: string, id: string) => {
      const key = `${state}\u0000${reason}`;
      const entry = relabel.get(key) ?? { state, ids: [] };
      entry.ids.push(id);
      relabel.set(key, entry);
    };
    for (const decision of decisions) {
      const incoming = byId.get(decision.id);
      if (!incoming || !owned.has(incoming.id)) continue;
      if (decision.invalid) {
        mark('invalid', decision.invalid, incoming.id);
        continue;
      }
      const { taken, duplicates } = await this.makeCopies(trx, incoming, decision, now, copies);
      if (taken === 0) mark('skipped', skipReason(decision, duplicates), incoming.id);
    }
    for (const [key, { state, ids: group }] of relabel) {
      const reason = key.slice(key.indexOf('\u0000') + 1);
      for (let i = 0; i < group.length; i += 500) {
        await trx
          .updateTable('messages')
          .set({ state, reason })
          .where('id', 'in', group.slice(i, i + 500))
          .execute();
      }
    }
    const reservation = this.reserveCopies(copies, now, true);
    if (reservation) reserved.push(reservation);
    await this.insertMessages(trx, copies);
    if (copies.some((c) => c.queue_name === 'accepted' && c.state === 'pending'))
      await this.notify(trx, 'accepted');
  }

  private async takeIdentifierKey(trx: Tx, copy: AcceptedCopy, now: number): Promise<boolean> {
    const dedup = copy.dedup!;
    await trx
      .deleteFrom('identifier_keys')
      .where('mapping_id', '=', copy.mapping_id)
      .where('key', '=', dedup.key)
      .where('expires_at', '<=', now)
      .execute();
    const res = await trx
      .insertInto('identifier_keys')
      .values({
        mapping_id: copy.mapping_id,
        key: dedup.key,
        message_id: copy.id,
        expires_at: dedup.expires_at,
      })
      .onConflict((oc) => oc.columns(['mapping_id', 'key']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
}
