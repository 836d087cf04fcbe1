import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { isCredentialError } from './errors.ts';
import { isKeyHash, keyHash } from './key-hash.ts';
import { credentialKvKey, keyHashFromKvKey } from './kv-key.ts';
import {
  credentialOfEntry,
  decodeThingCredential,
  encodeThingCredential,
  sameAccess,
  type ThingCredential,
} from './thing-credential.ts';

const CREDENTIAL: ThingCredential = {
  thingId: '0190b8a0-0000-7000-8000-000000000001',
  tenantId: '0190b8a0-0000-7000-8000-000000000002',
  enabled: true,
  channels: ['0190b8a0-0000-7000-8000-000000000003'],
};

test('keyHash is sha256:<hex> of the UTF-8 secret', () => {
  assert.equal(keyHash('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(keyHash('é'), `sha256:${createHash('sha256').update(Buffer.from('é', 'utf8')).digest('hex')}`);
  assert.equal(isKeyHash(keyHash('')), true);
  assert.equal(isKeyHash('sha256:ABC'), false);
  assert.equal(isKeyHash(`md5:${'a'.repeat(64)}`), false);
});

test('a key hash and its bucket key convert both ways; nothing else converts', () => {
  const hash = keyHash('thing-key');
  const kvKey = credentialKvKey(hash);
  assert.equal(kvKey, `keys.${hash.slice('sha256:'.length)}`);
  assert.equal(keyHashFromKvKey(kvKey), hash);
  assert.equal(keyHashFromKvKey('keys.not-hex'), undefined);
  assert.equal(keyHashFromKvKey(`other.${'a'.repeat(64)}`), undefined);
  assert.throws(
    () => credentialKvKey('not-a-hash'),
    (err) => isCredentialError(err, 'INVALID_KEY_HASH'),
  );
  assert.throws(
    () => credentialKvKey('sha256:>'),
    (err) => isCredentialError(err, 'INVALID_KEY_HASH'),
  );
});

test('a credential round-trips; a put entry holds it, a delete, a purge or an empty value none', () => {
  const value = encodeThingCredential(CREDENTIAL);
  assert.deepEqual(decodeThingCredential(value), CREDENTIAL);
  assert.deepEqual(credentialOfEntry({ operation: 'PUT', value }), CREDENTIAL);
  assert.equal(credentialOfEntry({ operation: 'DEL', value: new Uint8Array() }), undefined);
  assert.equal(credentialOfEntry({ operation: 'PURGE', value: new Uint8Array() }), undefined);
  assert.equal(credentialOfEntry({ operation: 'PUT', value: new Uint8Array() }), undefined);
  assert.equal(credentialOfEntry(null), undefined);
  for (const bad of ['{', '{"thingId":1}', '[]', 'null']) {
    assert.throws(
      () => decodeThingCredential(new TextEncoder().encode(bad)),
      (err) => isCredentialError(err, 'INVALID_CREDENTIAL'),
      bad,
    );
  }
});

test('a credential carries an optional rate limit; entries written without one still decode', () => {
  const limited: ThingCredential = { ...CREDENTIAL, rateLimit: { perSecond: 1000, burst: 2000 } };
  assert.deepEqual(decodeThingCredential(encodeThingCredential(limited)), limited);
  // an entry as written before rate limits existed: exactly these four fields
  const old = JSON.stringify({
    thingId: CREDENTIAL.thingId,
    tenantId: CREDENTIAL.tenantId,
    enabled: true,
    channels: CREDENTIAL.channels,
  });
  const decoded = decodeThingCredential(new TextEncoder().encode(old));
  assert.deepEqual(decoded, CREDENTIAL);
  assert.equal('rateLimit' in decoded, false);
  for (const rateLimit of [{ perSecond: 0, burst: 1 }, { perSecond: 1, burst: 1.5 }, { perSecond: 1 }, 5]) {
    const bad = JSON.stringify({ ...JSON.parse(old), rateLimit });
    assert.throws(
      () => decodeThingCredential(new TextEncoder().encode(bad)),
      (err) => isCredentialError(err, 'INVALID_CREDENTIAL'),
      bad,
    );
  }
});

test('a session keeps its access only for the same thing, still enabled, with the same channels', () => {
  assert.equal(sameAccess(CREDENTIAL, { ...CREDENTIAL }), true);
  assert.equal(sameAccess(CREDENTIAL, undefined), false);
  assert.equal(sameAccess(CREDENTIAL, { ...CREDENTIAL, enabled: false }), false);
  assert.equal(sameAccess(CREDENTIAL, { ...CREDENTIAL, channels: [] }), false);
  assert.equal(
    sameAccess(CREDENTIAL, { ...CREDENTIAL, channels: [...CREDENTIAL.channels, CREDENTIAL.tenantId] }),
    true,
    'a channel connected meanwhile widens the session',
  );
  assert.equal(sameAccess(CREDENTIAL, { ...CREDENTIAL, thingId: CREDENTIAL.tenantId }), false);
});
