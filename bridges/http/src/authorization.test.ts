import assert from 'node:assert/strict';
import { test } from 'node:test';
import { thingKeyOf } from './authorization.ts';

test('Thing <key> and a bare key are thing keys; other schemes and empty headers are not', () => {
  assert.equal(thingKeyOf('Thing abc-123'), 'abc-123');
  assert.equal(thingKeyOf('thing  abc-123 '), 'abc-123');
  assert.equal(thingKeyOf('abc-123'), 'abc-123');
  assert.equal(thingKeyOf(' abc-123 '), 'abc-123');
  assert.equal(thingKeyOf('Bearer abc-123'), undefined);
  assert.equal(thingKeyOf('Basic YTpi'), undefined);
  assert.equal(thingKeyOf('Thing a b'), undefined);
  assert.equal(thingKeyOf('Thing '), undefined);
  assert.equal(thingKeyOf(''), undefined);
  assert.equal(thingKeyOf(undefined), undefined);
});
