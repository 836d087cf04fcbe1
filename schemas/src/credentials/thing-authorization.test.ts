import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseThingAuthorization } from './thing-authorization.ts';

test('Thing <key> and a bare key are thing keys; other schemes and empty headers are not', () => {
  assert.equal(parseThingAuthorization('Thing abc-123'), 'abc-123');
  assert.equal(parseThingAuthorization('thing  abc-123 '), 'abc-123');
  assert.equal(parseThingAuthorization('abc-123'), 'abc-123');
  assert.equal(parseThingAuthorization(' abc-123 '), 'abc-123');
  assert.equal(parseThingAuthorization('Bearer abc-123'), undefined);
  assert.equal(parseThingAuthorization('Basic YTpi'), undefined);
  assert.equal(parseThingAuthorization('Thing a b'), undefined);
  assert.equal(parseThingAuthorization('Thing '), undefined);
  assert.equal(parseThingAuthorization(''), undefined);
  assert.equal(parseThingAuthorization(undefined), undefined);
});
