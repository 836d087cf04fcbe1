import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { errors, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { v5, v7 } from 'uuid';
import {
  createOidcVerifier,
  DEFAULT_OIDC_ROLES_CLAIM,
  OIDC_USER_ID_NAMESPACE,
  type OidcProvider,
  parseOidcProviders,
} from './oidc.ts';
import { isOidcConfigError } from './oidc-config-error.ts';
import { assertRefused } from './test-support.ts';
import { isTokenError } from './token-error.ts';

const TENANT_A = v7();
const TENANT_B = v7();
const ROLE_MAP = { 'telly-admin': 'admin', 'telly-operator': 'operator', 'telly-viewer': 'viewer' } as const;

describe('parseOidcProviders', () => {
  const valid = {
    issuer: 'https://sso.example.com/realms/acme',
    jwksUrl: 'https://sso.example.com/realms/acme/protocol/openid-connect/certs',
    tenantId: TENANT_A,
    roleMap: ROLE_MAP,
  };
  const parseOne = (entry: Record<string, unknown>) => parseOidcProviders(JSON.stringify([entry]));
  const assertConfigError = (json: string, field: string, message?: RegExp) =>
    assert.throws(
      () => parseOidcProviders(json),
      (err: unknown) => {
        assert.ok(isOidcConfigError(err), String(err));
        assert.equal(err.code, 'OIDC_CONFIG');
        assert.equal(err.field, field);
        assert.ok(err.message.startsWith(`${field}: `), err.message);
        if (message) assert.match(err.message, message);
        return true;
      },
    );

  test('unset or blank means no providers', () => {
    assert.deepEqual(parseOidcProviders(undefined), []);
    assert.deepEqual(parseOidcProviders(''), []);
    assert.deepEqual(parseOidcProviders('  \n'), []);
    assert.deepEqual(parseOidcProviders('[]'), []);
  });

  test('fills in defaults and keeps the given fields', () => {
    assert.deepEqual(parseOne(valid), [
      { ...valid, audience: undefined, rolesClaim: DEFAULT_OIDC_ROLES_CLAIM, defaultRole: undefined },
    ]);
    assert.equal(DEFAULT_OIDC_ROLES_CLAIM, 'realm_access.roles');
    const full = {
      ...valid,
      tenantId: TENANT_B.toUpperCase(),
      audience: 'telly',
      rolesClaim: 'resource_access.telly.roles',
      defaultRole: 'viewer',
    };
    assert.deepEqual(parseOne(full), [{ ...full, tenantId: TENANT_B }]);
  });

  test('names the bad field', () => {
    const one = (entry: Record<string, unknown>) => JSON.stringify([valid, entry]);
    assertConfigError('{not json', 'TELLY_OIDC_PROVIDERS', /JSON/);
    assertConfigError('{}', 'TELLY_OIDC_PROVIDERS', /array/);
    assertConfigError('[42]', 'TELLY_OIDC_PROVIDERS[0]', /object/);
    const typo = { ...valid, issuer: 'https://other', rolemap: ROLE_MAP };
    assertConfigError(one(typo), 'TELLY_OIDC_PROVIDERS[1].rolemap', /unknown field/);
    assertConfigError(one({ ...valid, issuer: undefined }), 'TELLY_OIDC_PROVIDERS[1].issuer');
    assertConfigError(one({ ...valid, issuer: ' https://x ' }), 'TELLY_OIDC_PROVIDERS[1].issuer');
    assertConfigError(one(valid), 'TELLY_OIDC_PROVIDERS[1].issuer', /twice/);
    const second = { ...valid, issuer: 'https://sso.example.com/realms/other' };
    assertConfigError(one({ ...second, jwksUrl: 'not a url' }), 'TELLY_OIDC_PROVIDERS[1].jwksUrl', /URL/);
    assertConfigError(
      one({ ...second, jwksUrl: 'file:///etc/jwks.json' }),
      'TELLY_OIDC_PROVIDERS[1].jwksUrl',
    );
    assertConfigError(one({ ...second, audience: '' }), 'TELLY_OIDC_PROVIDERS[1].audience');
    assertConfigError(one({ ...second, tenantId: 'acme' }), 'TELLY_OIDC_PROVIDERS[1].tenantId', /UUID/);
    assertConfigError(one({ ...second, tenantId: undefined }), 'TELLY_OIDC_PROVIDERS[1].tenantId');
    assertConfigError(
      one({ ...second, rolesClaim: 'realm_access..roles' }),
      'TELLY_OIDC_PROVIDERS[1].rolesClaim',
    );
    assertConfigError(one({ ...second, roleMap: undefined }), 'TELLY_OIDC_PROVIDERS[1].roleMap');
    assertConfigError(one({ ...second, roleMap: ['admin'] }), 'TELLY_OIDC_PROVIDERS[1].roleMap');
    assertConfigError(
      one({ ...second, roleMap: { ok: 'viewer', 'realm-boss': 'superuser' } }),
      'TELLY_OIDC_PROVIDERS[1].roleMap["realm-boss"]',
      /superuser/,
    );
    assertConfigError(one({ ...second, defaultRole: 'guest' }), 'TELLY_OIDC_PROVIDERS[1].defaultRole');
  });
});

describe('createOidcVerifier against a real JWKS endpoint', () => {
  let server: Server;
  let base: string;
  let jwksRequests = 0;
  let hanging: Server;
  let hangingUrl: string;
  const keyA = generateKeyPair('RS256', { extractable: true });
  const keyB = generateKeyPair('RS256', { extractable: true });
  const stranger = generateKeyPair('RS256', { extractable: true });
  const ISSUER_A = 'https://sso.example.com/realms/acme';
  const ISSUER_B = 'https://sso.example.com/realms/beta';
  const AUDIENCE_B = 'telly-api';
  let providers: OidcProvider[];

  before(async () => {
    const jwkFor = async (pair: typeof keyA, kid: string) => ({
      ...(await exportJWK((await pair).publicKey)),
      kid,
      alg: 'RS256',
      use: 'sig',
    });
    const sets: Record<string, unknown> = {
      '/acme/certs': { keys: [await jwkFor(keyA, 'a1')] },
      '/beta/certs': { keys: [await jwkFor(keyB, 'b1')] },
    };
    server = createServer((req, res) => {
      const set = sets[req.url ?? ''];
      jwksRequests += 1;
      res.writeHead(set ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(set ?? {}));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    hanging = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/certs`;
    providers = parseOidcProviders(
      JSON.stringify([
        { issuer: ISSUER_A, jwksUrl: `${base}/acme/certs`, tenantId: TENANT_A, roleMap: ROLE_MAP },
        {
          issuer: ISSUER_B,
          jwksUrl: `${base}/beta/certs`,
          audience: AUDIENCE_B,
          tenantId: TENANT_B,
          rolesClaim: 'resource_access.telly.roles',
          roleMap: { boss: 'owner', staff: 'analyst' },
          defaultRole: 'viewer',
        },
      ]),
    );
  });

  after(() => {
    server.close();
    hanging.closeAllConnections();
    hanging.close();
  });

  async function sign(
    pair: typeof keyA,
    kid: string,
    claims: JWTPayload,
    { expiresIn = '5m', alg = 'RS256' }: { expiresIn?: string | number; alg?: string } = {},
  ) {
    return new SignJWT({ typ: 'Bearer', ...claims })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign((await pair).privateKey);
  }
  const tokenA = (claims: JWTPayload = {}, opts?: Parameters<typeof sign>[3]) =>
    sign(
      keyA,
      'a1',
      { iss: ISSUER_A, sub: 'user-1', realm_access: { roles: ['telly-viewer'] }, ...claims },
      opts,
    );

  test('a valid token maps to the provider tenant, the mapped role and a stable user id', async () => {
    const verifier = createOidcVerifier(providers);
    const token = await tokenA({ email: 'ann@example.com', email_verified: true });
    assert.equal(verifier.matches(token), true);
    const identity = await verifier.verify(token);
    const { expiresAt, ...rest } = identity;
    assert.deepEqual(rest, {
      userId: v5(`${ISSUER_A}#user-1`, OIDC_USER_ID_NAMESPACE),
      tenantId: TENANT_A,
      role: 'viewer',
      subject: 'user-1',
      issuer: ISSUER_A,
      email: 'ann@example.com',
      emailVerified: true,
    });
    assert.ok(expiresAt.getTime() > Date.now() && expiresAt.getTime() <= Date.now() + 5 * 60_000);
    assert.equal((await verifier.verify(await tokenA())).userId, identity.userId, 'same subject, same id');
    assert.notEqual((await verifier.verify(await tokenA({ sub: 'user-2' }))).userId, identity.userId);
    assert.equal((await verifier.verify(await tokenA({ email_verified: 'true' }))).emailVerified, false);
  });

  test('the highest mapped role wins; unmapped roles are ignored', async () => {
    const verifier = createOidcVerifier(providers);
    const roleFor = async (roles: unknown) =>
      (await verifier.verify(await tokenA({ realm_access: { roles } }))).role;
    assert.equal(await roleFor(['telly-viewer', 'telly-admin', 'telly-operator']), 'admin');
    assert.equal(await roleFor(['offline_access', 'telly-operator', 'uma_authorization']), 'operator');
    assert.equal(await roleFor(['telly-viewer', 42, null, 'telly-operator']), 'operator');
  });

  test('no mapped role: the default role, or refusal without one', async () => {
    const verifier = createOidcVerifier(providers);
    for (const claims of [
      { realm_access: { roles: ['offline_access'] } },
      { realm_access: {} },
      { realm_access: 'x' },
    ]) {
      await assertRefused(verifier.verify(await tokenA(claims)), 'TOKEN_INVALID', /no Telly role/);
    }
    await assertRefused(
      verifier.verify(await tokenA({ realm_access: { roles: ['constructor'] } })),
      'TOKEN_INVALID',
    );
    const tokenB = (claims: JWTPayload) =>
      sign(keyB, 'b1', { iss: ISSUER_B, sub: 's', aud: AUDIENCE_B, ...claims });
    assert.equal((await verifier.verify(await tokenB({}))).role, 'viewer', 'defaultRole');
    const nested = await tokenB({ resource_access: { telly: { roles: ['staff', 'boss'] } } });
    const identity = await verifier.verify(nested);
    assert.equal(identity.role, 'owner', 'rolesClaim is a dot path');
    assert.equal(identity.tenantId, TENANT_B);
    assert.notEqual(identity.userId, v5(`${ISSUER_A}#s`, OIDC_USER_ID_NAMESPACE), 'ids differ per issuer');
  });

  test('a token signed by another key is refused', async () => {
    const verifier = createOidcVerifier(providers);
    const forged = await sign(stranger, 'a1', {
      iss: ISSUER_A,
      sub: 'user-1',
      realm_access: { roles: ['telly-admin'] },
    });
    await assertRefused(verifier.verify(forged), 'TOKEN_INVALID', /signature/);
    // Provider B's (genuine) key cannot vouch for provider A's issuer.
    const crossed = await sign(keyB, 'b1', {
      iss: ISSUER_A,
      sub: 'user-1',
      realm_access: { roles: ['telly-admin'] },
    });
    await assertRefused(verifier.verify(crossed), 'TOKEN_INVALID');
    const unknownKid = await sign(stranger, 'zz', { iss: ISSUER_A, sub: 'user-1' });
    await assertRefused(verifier.verify(unknownKid), 'TOKEN_INVALID');
  });

  test('an expired token is refused with TOKEN_EXPIRED, past the clock tolerance', async () => {
    const verifier = createOidcVerifier(providers, { clockToleranceSeconds: 30 });
    const now = Math.floor(Date.now() / 1000);
    await assert.rejects(verifier.verify(await tokenA({}, { expiresIn: now - 120 })), (err: unknown) => {
      assert.ok(isTokenError(err, 'TOKEN_EXPIRED'), String(err));
      assert.ok(err.cause instanceof errors.JWTExpired);
      return true;
    });
    assert.equal(
      (await verifier.verify(await tokenA({}, { expiresIn: now - 5 }))).role,
      'viewer',
      'within tolerance',
    );
  });

  test('wrong or unknown issuer and wrong audience are refused', async () => {
    const verifier = createOidcVerifier(providers);
    const foreign = await sign(keyA, 'a1', { iss: 'https://evil.example.com/realms/acme', sub: 'u' });
    assert.equal(verifier.matches(foreign), false);
    await assertRefused(verifier.verify(foreign), 'TOKEN_INVALID', /not from a configured identity provider/);
    const trailingSlash = await sign(keyA, 'a1', { iss: `${ISSUER_A}/`, sub: 'u' });
    assert.equal(verifier.matches(trailingSlash), false);
    await assertRefused(verifier.verify(trailingSlash), 'TOKEN_INVALID');
    const noIssuer = await sign(keyA, 'a1', { sub: 'u' });
    await assertRefused(verifier.verify(noIssuer), 'TOKEN_INVALID');

    const tokenB = (claims: JWTPayload) => sign(keyB, 'b1', { iss: ISSUER_B, sub: 's', ...claims });
    await assertRefused(verifier.verify(await tokenB({ aud: 'account' })), 'TOKEN_INVALID', /aud/);
    await assertRefused(verifier.verify(await tokenB({})), 'TOKEN_INVALID', /aud/);
    assert.equal((await verifier.verify(await tokenB({ aud: ['account', AUDIENCE_B] }))).tenantId, TENANT_B);
  });

  test('malformed tokens, missing claims, weak algorithms and ID tokens are refused', async () => {
    const verifier = createOidcVerifier(providers);
    for (const junk of ['', 'abc', 'a.b.c']) {
      assert.equal(verifier.matches(junk), false);
      await assertRefused(verifier.verify(junk), 'TOKEN_INVALID');
    }
    await assertRefused(verifier.verify(await tokenA({ sub: undefined })), 'TOKEN_INVALID', /sub/);
    const noExp = await new SignJWT({ iss: ISSUER_A, sub: 'u', realm_access: { roles: ['telly-viewer'] } })
      .setProtectedHeader({ alg: 'RS256', kid: 'a1' })
      .sign((await keyA).privateKey);
    await assertRefused(verifier.verify(noExp), 'TOKEN_INVALID', /exp/);
    const rs384Key = generateKeyPair('RS384');
    const rs384 = await sign(rs384Key, 'a1', { iss: ISSUER_A, sub: 'u' }, { alg: 'RS384' });
    await assertRefused(verifier.verify(rs384), 'TOKEN_INVALID', /alg/);
    const hs256 = await new SignJWT({ iss: ISSUER_A, sub: 'u', realm_access: { roles: ['telly-admin'] } })
      .setProtectedHeader({ alg: 'HS256', kid: 'a1' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a shared secret nobody should trust'));
    await assertRefused(verifier.verify(hs256), 'TOKEN_INVALID', /alg/);
    const idToken = await tokenA({ typ: 'ID' });
    await assertRefused(verifier.verify(idToken), 'TOKEN_INVALID', /not an access token/);
  });

  test('the JWKS is fetched once and cached across verifications', async () => {
    const verifier = createOidcVerifier(providers);
    const token = await tokenA();
    const before = jwksRequests;
    await Promise.all([verifier.verify(token), verifier.verify(token)]);
    await verifier.verify(token);
    assert.equal(jwksRequests - before, 1);
  });

  test('an unreachable JWKS fails as TOKEN_INVALID after fetchTimeoutMs', async () => {
    const slow = providers.map((p) => (p.issuer === ISSUER_A ? { ...p, jwksUrl: hangingUrl } : p));
    const verifier = createOidcVerifier(slow, { fetchTimeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(verifier.verify(await tokenA()), (err: unknown) => {
      assert.ok(isTokenError(err, 'TOKEN_INVALID'), String(err));
      assert.ok(err.cause instanceof errors.JWKSTimeout, String(err.cause));
      return true;
    });
    assert.ok(Date.now() - started < 2_000);
  });

  test('providers built in code are checked too', () => {
    assert.throws(() => createOidcVerifier([providers[0]!, providers[0]!]), isOidcConfigError);
    assert.throws(() => createOidcVerifier([{ ...providers[0]!, jwksUrl: 'nope' }]), isOidcConfigError);
  });
});
