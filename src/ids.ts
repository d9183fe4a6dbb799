import { uuidv7 } from 'uuidv7';

/**
 * Every id the hub makes (stores, tokens, messages) is a UUIDv7: unique, opaque to clients, and
 * time-ordered, so primary-key inserts append to the B-tree and "newest first" is an index walk.
 */
export function newId(): string {
  return uuidv7();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Cheap shape check used before a lookup, so junk ids answer 404 without touching the database. */
export function looksLikeId(value: string): boolean {
  return UUID.test(value);
}
