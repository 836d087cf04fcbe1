import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idempotencyKeyOf } from './idempotency-key.ts';
import { HttpProblem } from './problem.ts';

const refused = (err: unknown) =>
  err instanceof HttpProblem && err.status === 400 && err.reason === 'invalid-idempotency-key';

test('an Idempotency-Key is a token of at most 128 characters, bare or as a quoted structured string', () => {
  assert.equal(idempotencyKeyOf(undefined), undefined);
  assert.equal(idempotencyKeyOf('m-1'), 'm-1');
  assert.equal(
    idempotencyKeyOf('"8e03978e-40d5-43e8-bc93-6894a57f9324"'),
    '8e03978e-40d5-43e8-bc93-6894a57f9324',
  );
  assert.equal(idempotencyKeyOf('a.b_c~d:e-f'), 'a.b_c~d:e-f');
  assert.equal(idempotencyKeyOf('x'.repeat(128)), 'x'.repeat(128));
  for (const bad of ['', '""', 'x'.repeat(129), 'a b', 'a/b', 'a*', 'ü', ['a', 'b']]) {
    assert.throws(() => idempotencyKeyOf(bad), refused, JSON.stringify(bad));
  }
});
