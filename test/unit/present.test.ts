import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iso } from '../../src/http/present.js';

test('times show as ISO 8601; one no date can hold shows as none instead of failing the answer', () => {
  assert.equal(iso(0), '1970-01-01T00:00:00.000Z');
  assert.equal(iso(null), null);
  // a due time stored before async delays were capped (delay 1e20 seconds)
  assert.equal(iso(Date.now() + 1e23), null);
});
