import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { StoreAuth } from '../../src/http/auth.js';
import { newStore } from '../../src/http/routes/stores.js';
import type { Storage } from '../../src/storage/contract.js';
import { openStorage } from '../../src/storage/open.js';
import { freshDatabase, type TestDatabase } from '../helpers/databases.js';

let db: TestDatabase;
let storage: Storage;
/** The real storage, with its store reads counted. */
let reads = 0;
let counted: Storage;

before(async () => {
  db = await freshDatabase('sqlite');
  storage = await openStorage({ databaseUrl: db.url, dataDir: db.dataDir });
  counted = new Proxy(storage, {
    get(target, key, receiver) {
      if (key === 'getStore') reads++;
      return Reflect.get(target, key, receiver);
    },
  });
});
after(async () => {
  await storage.close();
  await db.drop();
});

test('random store ids cannot push a real store out of the token cache', async () => {
  const { store, token, secret } = newStore('Real');
  await storage.createStore(store, token);
  const auth = new StoreAuth(counted, 60_000);
  const now = Date.now();
  assert.equal((await auth.authenticate(store.id, secret, now)).id, store.id);
  const first = reads;
  // a client probing with 12,000 ids that name no store (more than either cache holds)
  for (let i = 0; i < 12_000; i++) {
    await assert.rejects(auth.authenticate(randomUUID(), 'sy_guess', now), { status: 404 });
  }
  assert.equal(reads - first, 12_000, 'each unknown id was looked up once');
  const before = reads;
  assert.equal((await auth.authenticate(store.id, secret, now)).id, store.id);
  assert.equal(auth.known(store.id, secret, now)?.id, store.id, 'still answered from the cache');
  assert.equal(reads, before, 'the real store needed no database read');
});

test('an id found to name no store is not looked up again within the cache time', async () => {
  const auth = new StoreAuth(counted, 60_000);
  const id = randomUUID();
  const now = Date.now();
  await assert.rejects(auth.authenticate(id, 'x', now), { status: 404 });
  const before = reads;
  await assert.rejects(auth.authenticate(id, 'x', now + 1000), { status: 404 });
  assert.equal(reads, before);
  await assert.rejects(auth.authenticate(id, 'x', now + 61_000), { status: 404 });
  assert.equal(reads, before + 1, 'looked up again once the entry is stale');
});
