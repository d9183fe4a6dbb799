import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonProblem, MAX_JSON_DEPTH } from '../../src/json-limits.js';

const nested = (levels: number, leaf: string) =>
  JSON.parse(`${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`);

test('documents within the bounds pass', () => {
  assert.equal(jsonProblem({ order: { lines: [{ sku: 'A', quantity: 2, price: 1.5e10 }] } }), undefined);
  assert.equal(jsonProblem(nested(MAX_JSON_DEPTH, '1')), undefined);
  assert.equal(jsonProblem(null), undefined);
  assert.equal(jsonProblem('text'), undefined);
});

test('nesting past the bound is found, with where', () => {
  const problem = jsonProblem({ payload: nested(MAX_JSON_DEPTH, '1') });
  assert.ok(problem);
  assert.equal(problem.pointer, `/payload${'/0'.repeat(MAX_JSON_DEPTH - 1)}`);
  assert.match(problem.reason, /nests deeper than 256 levels/);
});

test('a number that overflowed to Infinity is found, with where; keys are escaped (RFC 6901)', () => {
  assert.deepEqual(jsonProblem(JSON.parse('{"a/b":{"c~d":[0, -1e999]}}')), {
    pointer: '/a~1b/c~0d/1',
    reason: 'is a number too large to represent (at most about 1.8e308)',
  });
  assert.equal(jsonProblem(JSON.parse('[1.7976931348623157e308, 0.1]')), undefined);
});

test('with exactNumbers, a number past 2^53 is found (it would be rounded); 2^53 - 1 passes', () => {
  const exact = { exactNumbers: true };
  assert.equal(jsonProblem(JSON.parse('{"id":12345678901234567891}'), exact)?.pointer, '/id');
  assert.equal(jsonProblem(JSON.parse('{"id":-9007199254740993}'), exact)?.pointer, '/id');
  assert.match(
    jsonProblem(JSON.parse('[1e20]'), exact)!.reason,
    /beyond 9007199254740991 .*send it as a string/,
  );
  const fine = JSON.parse('[9007199254740991, -9007199254740991, 1.5, 1e-300, 123456.789]');
  assert.equal(jsonProblem(fine, exact), undefined);
  assert.equal(
    jsonProblem(JSON.parse('{"id":12345678901234567891}')),
    undefined,
    'replies keep their bounds',
  );
});
