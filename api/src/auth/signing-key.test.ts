import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { isSigningKeyError, jwks, loadSigningKey, type SigningKey } from './signing-key.ts';

const dir = await mkdtemp(join(tmpdir(), 'telly-signing-key-'));
after(() => rm(dir, { recursive: true, force: true }));

async function newPrivateJwk() {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return exportJWK(privateKey);
}

async function assertSignsAndVerifies(key: SigningKey) {
  const token = await new SignJWT({ hello: 'world' })
    .setProtectedHeader({ alg: 'EdDSA' })
    .sign(key.privateKey);
  const { payload } = await jwtVerify(token, key.publicKey, { algorithms: ['EdDSA'] });
  assert.equal(payload.hello, 'world');
}

test('a private JWK given as JSON is used as is, with its RFC 7638 thumbprint as kid', async () => {
  const jwk = await newPrivateJwk();
  const key = await loadSigningKey({ privateJwk: JSON.stringify(jwk), file: join(dir, 'ignored', 'k.json') });
  assert.deepEqual(key.publicJwk, { kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  assert.equal(key.kid, await calculateJwkThumbprint(jwk));
  assert.match(key.kid, /^[A-Za-z0-9_-]{43}$/);
  await assertSignsAndVerifies(key);
  await assert.rejects(stat(join(dir, 'ignored')), { code: 'ENOENT' }, 'privateJwk wins: no file written');
});

test('without a file a key is generated in memory, a different one each time', async () => {
  const a = await loadSigningKey();
  const b = await loadSigningKey({});
  assert.notEqual(a.kid, b.kid);
  await assertSignsAndVerifies(a);
});

test('a missing file is created (0600, directories made) and the same key is loaded from it next time', async () => {
  const file = join(dir, 'nested', 'deeper', 'signing-key.json');
  const first = await loadSigningKey({ file });
  const stored = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(stored.kty, 'OKP');
  assert.equal(stored.crv, 'Ed25519');
  assert.equal(typeof stored.d, 'string');
  assert.equal(stored.x, first.publicJwk.x);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const second = await loadSigningKey({ file });
  assert.equal(second.kid, first.kid);
  // What the first instance signed, the second verifies.
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).sign(first.privateKey);
  await jwtVerify(token, second.publicKey);
});

test('an existing key file is read, not replaced', async () => {
  const jwk = await newPrivateJwk();
  const file = join(dir, 'existing.json');
  await writeFile(file, JSON.stringify(jwk));
  const key = await loadSigningKey({ file });
  assert.equal(key.publicJwk.x, jwk.x);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), jwk);
});

test('concurrent first starts agree on one key', async () => {
  const file = join(dir, 'race', 'k.json');
  const keys = await Promise.all(Array.from({ length: 20 }, () => loadSigningKey({ file })));
  assert.equal(new Set(keys.map((k) => k.kid)).size, 1);
  assert.equal(keys[0]?.publicJwk.x, JSON.parse(await readFile(file, 'utf8')).x);
  assert.deepEqual(await readdir(join(dir, 'race')), ['k.json'], 'no temporary files left behind');
});

test('bad keys are refused with SigningKeyError naming the source', async () => {
  const jwk = await newPrivateJwk();
  const other = await newPrivateJwk();
  const { privateKey: ecKey } = await generateKeyPair('ES256', { extractable: true });
  const bad: [string, RegExp][] = [
    ['not json', /privateJwk: is not valid JSON/],
    ['[]', /must be a JWK object/],
    [JSON.stringify(await exportJWK(ecKey)), /must be an Ed25519 key/],
    [JSON.stringify({ ...jwk, d: undefined }), /must be a private key/],
    [JSON.stringify({ ...jwk, x: undefined }), /has no public key/],
    [JSON.stringify({ ...jwk, x: other.x }), /must be one key pair/],
  ];
  for (const [privateJwk, message] of bad) {
    await assert.rejects(loadSigningKey({ privateJwk }), (err: unknown) => {
      assert.ok(isSigningKeyError(err), String(err));
      assert.equal(err.code, 'SIGNING_KEY_INVALID');
      assert.match(err.message, message);
      return true;
    });
  }
  const file = join(dir, 'corrupt.json');
  await writeFile(file, '{"kty":');
  await assert.rejects(
    loadSigningKey({ file }),
    (err: unknown) => isSigningKeyError(err) && err.source === file,
  );
});

test('jwks publishes the public keys with kid, alg and use, and no private part', async () => {
  const a = await loadSigningKey();
  const b = await loadSigningKey();
  const set = jwks([a, b]);
  assert.deepEqual(set, {
    keys: [
      { kty: 'OKP', crv: 'Ed25519', x: a.publicJwk.x, kid: a.kid, alg: 'EdDSA', use: 'sig' },
      { kty: 'OKP', crv: 'Ed25519', x: b.publicJwk.x, kid: b.kid, alg: 'EdDSA', use: 'sig' },
    ],
  });
  assert.doesNotMatch(JSON.stringify(set), /"d"/);
});
