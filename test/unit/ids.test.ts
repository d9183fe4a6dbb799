import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idFloor, looksLikeId, newId } from '../../src/ids.js';

test('ids are UUIDv7: version 7, RFC variant, the current time in the first 48 bits', () => {
  const before = Date.now();
  const id = newId();
  const after = Date.now();
  assert.ok(looksLikeId(id), id);
  assert.equal(id[14], '7');
  assert.ok('89ab'.includes(id[19]!), id);
  const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  // the timestamp may run ahead of the clock only by counter overflows, which do not happen here
  assert.ok(ms >= before && ms <= after, `${ms} not in [${before}, ${after}]`);
});

test('ids of one process are unique and strictly increasing, also within one millisecond', () => {
  const ids = Array.from({ length: 200_000 }, newId);
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} !< ${ids[i]}`);
  // many fell in the same millisecond: the counter, not the clock, kept them in order
  const sameMs = ids.filter((id, i) => i > 0 && id.slice(0, 13) === ids[i - 1]!.slice(0, 13)).length;
  assert.ok(sameMs > 1000, `${sameMs} ids shared a millisecond`);
});

test('the random tail differs between ids', () => {
  const tails = new Set(Array.from({ length: 1000 }, () => newId().slice(-8)));
  assert.ok(tails.size > 990);
});

test('idFloor(ms) sorts above every id made before ms and at or below every id made from ms on', () => {
  const at = Date.now();
  const floor = idFloor(at);
  assert.ok(looksLikeId(floor), floor);
  const ms = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  assert.equal(ms(floor), at);
  const later = newId();
  assert.ok(floor <= later, `${floor} > ${later}`);
  // an id of the millisecond before, with the largest counter and tail, still sorts below
  const before = `${idFloor(at - 1).slice(0, 14)}7fff-bfff-ffffffffffff`;
  assert.ok(before < floor);
  assert.equal(idFloor(0), '00000000-0000-7000-8000-000000000000');
});
