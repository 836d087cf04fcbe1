import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { v7 } from 'uuid';
import {
  keyHash,
  newApiKey,
  newRefreshToken,
  newThingKey,
  parseApiKey,
  parseRefreshToken,
  safeEqual,
} from './secrets.ts';

const KEY_HASH_RE = /^sha256:[0-9a-f]{64}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

test('keyHash is sha256:<hex> of the UTF-8 secret, in the format the events accept', () => {
  assert.equal(keyHash('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.match(keyHash(newThingKey()), KEY_HASH_RE);
  assert.match(keyHash(''), KEY_HASH_RE);
  assert.equal(
    keyHash('é'),
    `sha256:${createHash('sha256')
      .update(Buffer.from([0xc3, 0xa9]))
      .digest('hex')}`,
  );
  assert.notEqual(keyHash('a'), keyHash('b'));
});

test('newThingKey: 32 random bytes as 43 base64url characters', () => {
  const keys = new Set(Array.from({ length: 100 }, () => newThingKey()));
  assert.equal(keys.size, 100);
  for (const key of keys) {
    assert.match(key, SECRET_RE);
    assert.equal(Buffer.from(key, 'base64url').length, 32);
  }
});

test('API keys round-trip through parseApiKey', () => {
  const id = v7();
  const key = newApiKey(id);
  assert.match(key, /^tak_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
  assert.ok(key.startsWith(`tak_${id.replaceAll('-', '')}_`));
  const parsed = parseApiKey(key);
  assert.deepEqual(parsed, { apikeyId: id, secret: key.slice(-43) });
  assert.notEqual(newApiKey(id), key, 'a new secret every time');
  // Uppercase ids are accepted and canonicalised.
  assert.equal(parseApiKey(newApiKey(id.toUpperCase()))?.apikeyId, id);
});

test('newApiKey refuses an id that is not a UUID', () => {
  assert.throws(() => newApiKey('not-a-uuid'), TypeError);
  assert.throws(() => newApiKey(v7().replaceAll('-', '')), TypeError);
});

test('parseApiKey refuses anything else', () => {
  const key = newApiKey(v7());
  const bad = [
    '',
    key.slice(0, -1),
    `${key}x`,
    key.replace('tak_', 'tak-'),
    key.replace('tak_', 'TAK_'),
    key.replace(/^tak_[0-9a-f]/, 'tak_g'),
    key.replace(/^tak_([0-9a-f]{32})/, (_, hex: string) => `tak_${hex.toUpperCase()}`),
    `${key.slice(0, -1)}=`,
    `${key.slice(0, -1)}+`,
    ` ${key}`,
    newRefreshToken(v7()),
  ];
  for (const token of bad) assert.equal(parseApiKey(token), undefined, token);
});

test('refresh tokens round-trip through parseRefreshToken', () => {
  const familyId = v7();
  const token = newRefreshToken(familyId);
  assert.match(token, new RegExp(`^${familyId}\\.[A-Za-z0-9_-]{43}$`));
  assert.deepEqual(parseRefreshToken(token), { familyId, secret: token.slice(-43), token });
  assert.notEqual(newRefreshToken(familyId), token);
});

test('refresh tokens need a lowercase UUID family', () => {
  const familyId = v7();
  assert.throws(() => newRefreshToken(familyId.toUpperCase()), TypeError);
  assert.throws(() => newRefreshToken('family'), TypeError);
  const token = newRefreshToken(familyId);
  const bad = [
    '',
    token.toUpperCase(),
    token.replace(familyId, familyId.toUpperCase()),
    token.replace('.', '_'),
    token.slice(0, -1),
    `${token}A`,
    `${familyId}.`,
    `.${token.slice(-43)}`,
    newApiKey(familyId),
  ];
  for (const t of bad) assert.equal(parseRefreshToken(t), undefined, t);
});

test('safeEqual compares whole strings of any length', () => {
  const secret = newThingKey();
  const lastCharChanged = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
  assert.equal(safeEqual(secret, [...secret].join('')), true);
  assert.equal(safeEqual(secret, lastCharChanged), false);
  assert.equal(safeEqual(secret, secret.slice(0, -1)), false);
  assert.equal(safeEqual('', ''), true);
  assert.equal(safeEqual('', 'a'), false);
  assert.equal(safeEqual('é', 'e\u0301'), false, 'no normalisation');
});
