import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorPredicate, TellyError } from './errors.ts';

type BusyCode = 'BUSY' | 'GONE';
class BusyError extends TellyError<BusyCode> {}
class VeryBusyError extends BusyError {}
const isBusyError = errorPredicate(BusyError);

test('a TellyError carries its code, its class name and its cause', () => {
  const cause = new Error('socket closed');
  const err = new BusyError('BUSY', 'try later', { cause });
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'BUSY');
  assert.equal(err.name, 'BusyError');
  assert.equal(err.message, 'try later');
  assert.equal(err.cause, cause);
  assert.match(String(err.stack), /^BusyError: try later/);
  assert.equal(new VeryBusyError('GONE', 'x').name, 'VeryBusyError');
});

test('errorPredicate narrows to the class, subclasses included, and to one code when given', () => {
  assert.equal(isBusyError(new BusyError('BUSY', 'x')), true);
  assert.equal(isBusyError(new VeryBusyError('GONE', 'x')), true);
  assert.equal(isBusyError(new BusyError('BUSY', 'x'), 'BUSY'), true);
  assert.equal(isBusyError(new BusyError('BUSY', 'x'), 'GONE'), false);
  assert.equal(isBusyError(Object.assign(new Error('x'), { code: 'BUSY' })), false);
  assert.equal(isBusyError(undefined), false);
});
