import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/util/errors.js';
test('errors carry a kind and an exit status', () => {
  const e = new BerthError('commandNotFound', 'x', 'y');
  assert.equal(e.exitStatus, 127);
});
