import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, SignJWT } from 'jose';
import { v7, version } from 'uuid';
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  DEFAULT_ACCESS_TOKEN_TTL_S,
  issueAccessToken,
  verifyAccessToken,
} from './access-token.ts';
import { loadSigningKey, type SigningKey } from './signing-key.ts';
import { assertRefused } from './test-support.ts';
import { isTokenError } from './token-error.ts';

const key = await loadSigningKey();
const otherKey = await loadSigningKey();
const ISSUER = 'https://telly.example';
const AUDIENCE = 'telly-api';
const OPTS = { issuer: ISSUER, audience: AUDIENCE };
const CLAIMS: AccessTokenClaims = { userId: v7(), tenantId: v7(), role: 'operator', sessionId: v7() };
const NOW = new Date('2030-01-02T03:04:05.678Z');

/** Signs arbitrary claims the way issueAccessToken would, to test what verification refuses. */
function forge(payload: JWTPayload, header: Record<string, unknown> = {}, signer: SigningKey = key) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    sub: CLAIMS.userId,
    tid: CLAIMS.tenantId,
    role: CLAIMS.role,
    sid: CLAIMS.sessionId,
    jti: v7(),
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now,
    exp: now + 60,
    ...payload,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: ACCESS_TOKEN_TYPE, ...header })
    .sign(signer.privateKey);
}

test('an issued token verifies back to the same claims', async () => {
  const { token, expiresAt } = await issueAccessToken(key, CLAIMS, OPTS);
  const verified = await verifyAccessToken(token, key, OPTS);
  assert.equal(verified.userId, CLAIMS.userId);
  assert.equal(verified.tenantId, CLAIMS.tenantId);
  assert.equal(verified.role, 'operator');
  assert.equal(verified.sessionId, CLAIMS.sessionId);
  assert.equal(version(verified.tokenId), 7);
  assert.deepEqual(verified.expiresAt, expiresAt);
  const lifetime = expiresAt.getTime() - Date.now();
  assert.ok(
    lifetime > (DEFAULT_ACCESS_TOKEN_TTL_S - 5) * 1000 && lifetime <= DEFAULT_ACCESS_TOKEN_TTL_S * 1000,
  );
});

test('header and claims are the documented ones', async () => {
  const { token, expiresAt } = await issueAccessToken(key, CLAIMS, { ...OPTS, ttlSeconds: 60, now: NOW });
  assert.deepEqual(decodeProtectedHeader(token), { alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' });
  const payload = decodeJwt(token);
  const iat = Math.floor(NOW.getTime() / 1000);
  assert.deepEqual(payload, {
    sub: CLAIMS.userId,
    tid: CLAIMS.tenantId,
    role: 'operator',
    sid: CLAIMS.sessionId,
    jti: payload.jti,
    iss: ISSUER,
    aud: AUDIENCE,
    iat,
    exp: iat + 60,
  });
  assert.deepEqual(expiresAt, new Date((iat + 60) * 1000));
  const again = await issueAccessToken(key, CLAIMS, { ...OPTS, now: NOW });
  assert.notEqual(decodeJwt(again.token).jti, payload.jti);
});

test('expiry is checked against `now`: expired gives TOKEN_EXPIRED with the jose error as cause', async () => {
  const { token } = await issueAccessToken(key, CLAIMS, { ...OPTS, ttlSeconds: 60, now: NOW });
  const justBefore = new Date(NOW.getTime() + 59_000);
  assert.equal((await verifyAccessToken(token, key, { ...OPTS, now: justBefore })).userId, CLAIMS.userId);
  await assert.rejects(
    verifyAccessToken(token, key, { ...OPTS, now: new Date(NOW.getTime() + 61_000) }),
    (err) => {
      assert.ok(isTokenError(err, 'TOKEN_EXPIRED'));
      assert.ok(err.cause instanceof errors.JWTExpired);
      return true;
    },
  );
  const anHourAgo = new Date(Date.now() - 3_600_000);
  const stale = await issueAccessToken(key, CLAIMS, { ...OPTS, ttlSeconds: 60, now: anHourAgo });
  await assertRefused(verifyAccessToken(stale.token, key, OPTS), 'TOKEN_EXPIRED', /expired/);
});

test('wrong issuer or audience is refused', async () => {
  const { token } = await issueAccessToken(key, CLAIMS, OPTS);
  await assertRefused(
    verifyAccessToken(token, key, { ...OPTS, issuer: 'https://evil.example' }),
    'TOKEN_INVALID',
    /iss/,
  );
  await assertRefused(verifyAccessToken(token, key, { ...OPTS, audience: 'other' }), 'TOKEN_INVALID', /aud/);
});

test('a token from another key is refused, even with a matching kid or an expired exp', async () => {
  const foreign = await issueAccessToken(otherKey, CLAIMS, OPTS);
  await assertRefused(verifyAccessToken(foreign.token, key, OPTS), 'TOKEN_INVALID', /unknown key/);
  const sameKid = await forge({}, {}, otherKey);
  await assertRefused(verifyAccessToken(sameKid, key, OPTS), 'TOKEN_INVALID', /signature/);
  const sameKidExpired = await forge({ exp: 1 }, {}, otherKey);
  await assertRefused(verifyAccessToken(sameKidExpired, key, OPTS), 'TOKEN_INVALID');
});

test('a tampered payload is refused', async () => {
  const { token } = await issueAccessToken(key, CLAIMS, OPTS);
  const [header, , signature] = token.split('.');
  const payload = Buffer.from(JSON.stringify({ ...decodeJwt(token), role: 'owner' })).toString('base64url');
  await assertRefused(verifyAccessToken(`${header}.${payload}.${signature}`, key, OPTS), 'TOKEN_INVALID');
});

test('with several keys, the header kid picks the right one (rotation)', async () => {
  const old = await issueAccessToken(otherKey, CLAIMS, OPTS);
  const current = await issueAccessToken(key, CLAIMS, OPTS);
  for (const { token } of [old, current]) {
    assert.equal((await verifyAccessToken(token, [key, otherKey], OPTS)).userId, CLAIMS.userId);
  }
  await assertRefused(verifyAccessToken(old.token, [key], OPTS), 'TOKEN_INVALID');
  await assertRefused(verifyAccessToken(old.token, [], OPTS), 'TOKEN_INVALID');
});

test('only EdDSA at+jwt tokens are accepted', async () => {
  const body = (h: object, p: object) =>
    `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from(JSON.stringify(p)).toString('base64url')}`;
  const valid = decodeJwt((await issueAccessToken(key, CLAIMS, OPTS)).token);
  await assertRefused(
    verifyAccessToken(`${body({ alg: 'none', kid: key.kid, typ: 'at+jwt' }, valid)}.`, key, OPTS),
    'TOKEN_INVALID',
  );
  const hs256 = await new SignJWT(valid)
    .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
    .sign(new Uint8Array(32));
  await assertRefused(verifyAccessToken(hs256, key, OPTS), 'TOKEN_INVALID', /alg/);
  await assertRefused(verifyAccessToken(await forge({}, { typ: 'JWT' }), key, OPTS), 'TOKEN_INVALID', /typ/);
  await assertRefused(verifyAccessToken('not.a.jwt', key, OPTS), 'TOKEN_INVALID');
  await assertRefused(verifyAccessToken('', key, OPTS), 'TOKEN_INVALID');
  assert.equal(
    (await verifyAccessToken(await forge({}), key, OPTS)).role,
    'operator',
    'forge() itself is valid',
  );
});

test('every Telly claim must be well-formed', async () => {
  const bad: [JWTPayload, string][] = [
    [{ sub: 'alice' }, 'sub'],
    [{ sub: CLAIMS.userId.toUpperCase() }, 'sub'],
    [{ tid: undefined }, 'tid'],
    [{ tid: 'tenant-1' }, 'tid'],
    [{ role: 'superuser' }, 'role'],
    [{ role: ['owner'] }, 'role'],
    [{ sid: 42 }, 'sid'],
    [{ jti: 'x' }, 'jti'],
    [{ jti: undefined }, 'jti'],
    [{ exp: undefined }, 'exp'],
    [{ iat: undefined }, 'iat'],
  ];
  for (const [payload, claim] of bad) {
    await assertRefused(
      verifyAccessToken(await forge(payload), key, OPTS),
      'TOKEN_INVALID',
      new RegExp(claim),
    );
  }
});

test('issueAccessToken refuses malformed claims and TTLs', async () => {
  await assert.rejects(issueAccessToken(key, { ...CLAIMS, userId: 'alice' }, OPTS), TypeError);
  await assert.rejects(
    issueAccessToken(key, { ...CLAIMS, tenantId: CLAIMS.tenantId.toUpperCase() }, OPTS),
    TypeError,
  );
  await assert.rejects(issueAccessToken(key, { ...CLAIMS, sessionId: '' }, OPTS), TypeError);
  // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong at runtime
  await assert.rejects(issueAccessToken(key, { ...CLAIMS, role: 'root' as any }, OPTS), TypeError);
  await assert.rejects(issueAccessToken(key, CLAIMS, { ...OPTS, ttlSeconds: 0 }), TypeError);
  await assert.rejects(issueAccessToken(key, CLAIMS, { ...OPTS, ttlSeconds: 1.5 }), TypeError);
});
