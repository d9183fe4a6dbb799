import { randomFillSync } from 'node:crypto';

/**
 * Every id the hub makes (stores, tokens, messages, attempts) is a UUIDv7 (RFC 9562): unique,
 * opaque to clients, and time-ordered, so primary-key inserts append to the B-tree and "newest
 * first" is an index walk.
 *
 * Layout, as the RFC's "fixed-length dedicated counter" method:
 *   48 bits  Unix time in milliseconds
 *    4 bits  version 7
 *   42 bits  counter (the 12 bits of rand_a, then 30 bits of rand_b after the 2 variant bits)
 *   32 bits  random
 * The counter starts at a random value below 2^41 in every new millisecond and goes up by one for
 * each id within it, so the ids of this process are strictly increasing, also as strings, even
 * when many are made in one millisecond or the clock steps back (the last timestamp is kept until
 * the clock passes it; a counter that runs out moves the timestamp on by one).
 *
 * Our own because it is on every push and every delivery (two or three ids per message): the
 * uuidv7 package took about 3 µs an id on the bench machine, mostly in building its UUID object
 * and string; this takes a fraction of that.
 */
const COUNTER_LIMIT = 2 ** 42;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
let lastMs = -1;
let counter = 0;

/** Four random bytes as an unsigned integer, from a pool refilled 4 KiB at a time. */
function random32(): number {
  if (poolAt + 4 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const v = pool.readUInt32BE(poolAt);
  poolAt += 4;
  return v;
}

/** A random counter start below 2^41: half the counter's range is left for ids in the same ms. */
function freshCounter(): number {
  return (random32() & 0x1ff) * 2 ** 32 + random32();
}

export function newId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = freshCounter();
  } else if (++counter >= COUNTER_LIMIT) {
    lastMs++;
    counter = freshCounter();
  }
  const ms = lastMs;
  const msHigh = Math.floor(ms / 2 ** 16); // top 32 bits of the 48
  const counterHigh = Math.floor(counter / 2 ** 30); // 12 bits → rand_a
  const counterLow = counter % 2 ** 30; // 30 bits → after the variant
  const tail = random32();
  return (
    HEX[(msHigh >>> 24) & 0xff]! +
    HEX[(msHigh >>> 16) & 0xff]! +
    HEX[(msHigh >>> 8) & 0xff]! +
    HEX[msHigh & 0xff]! +
    '-' +
    HEX[(ms >>> 8) & 0xff]! +
    HEX[ms & 0xff]! +
    '-' +
    HEX[0x70 | (counterHigh >>> 8)]! +
    HEX[counterHigh & 0xff]! +
    '-' +
    HEX[0x80 | (counterLow >>> 24)]! +
    HEX[(counterLow >>> 16) & 0xff]! +
    '-' +
    HEX[(counterLow >>> 8) & 0xff]! +
    HEX[counterLow & 0xff]! +
    HEX[(tail >>> 24) & 0xff]! +
    HEX[(tail >>> 16) & 0xff]! +
    HEX[(tail >>> 8) & 0xff]! +
    HEX[tail & 0xff]!
  );
}

/**
 * The smallest id made at `ms` or later: every id made before that millisecond sorts below it (as
 * a string too). A listing or a purge by age can then walk an index on id instead of one on time.
 */
export function idFloor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Cheap shape check used before a lookup, so junk ids answer 404 without touching the database. */
export function looksLikeId(value: string): boolean {
  return UUID.test(value);
}
