import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { readCredential } from '@telly/registry';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { v7 } from 'uuid';
import { keyHash } from './auth/secrets.ts';
import { MAX_REQUEST_BYTES } from './plugins/body-limit.ts';
import { postChunked } from './testing/chunked.ts';
import { errorCode, gql, ok, type Signed, type Stack, signup, startStack } from './testing/stack.ts';

const OIDC_ISSUER = 'https://keycloak.test/realms/farm';
const OIDC_TENANT = v7();
let stack: Stack;
let url: string;
let jwksServer: Server;
let idpKey: CryptoKeyPair;

before(async () => {
  idpKey = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(idpKey.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/certs`;
  stack = await startStack({
    oidcProviders: JSON.stringify([
      { issuer: OIDC_ISSUER, jwksUrl, tenantId: OIDC_TENANT, roleMap: { 'farm-analyst': 'analyst' } },
    ]),
  });
  url = stack.url;
});
after(async () => {
  await stack?.stop();
  jwksServer?.close();
});

const CREATE_CHANNEL = `mutation($input: CreateChannelInput!) { createChannel(input: $input) { id name metadata } }`;
const CREATE_THING = `mutation($input: CreateThingInput!) { createThing(input: $input) { key thing { id name enabled } } }`;
const THING = `query($id: ID!) { thing(id: $id) { id name metadata enabled channels { totalCount nodes { id name } } } }`;
const THINGS = `query($first: Int, $after: String, $filter: ThingFilter) {
  things(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } }
  }
}`;

describe('registry over GraphQL', () => {
  let owner: Signed;

  test('signup → login → create channel → create thing → connect → query back', async () => {
    owner = await signup(url, 'Ana@Example.com', 'greenhouse-co');
    assert.equal(owner.user.email, 'ana@example.com');
    assert.equal(owner.user.role, 'owner');
    assert.equal(owner.user.tenant.name, 'greenhouse-co');

    const login = await ok<{ login: Signed }>(
      url,
      `mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id } } }`,
      { input: { email: 'ana@example.com', password: 'correct horse battery staple' } },
    );
    assert.equal(login.login.user.id, owner.user.id);
    const token = login.login.accessToken;

    const { createChannel } = await ok<{ createChannel: { id: string; name: string; metadata: unknown } }>(
      url,
      CREATE_CHANNEL,
      { input: { name: 'greenhouse-1', metadata: { zone: 'north' } } },
      token,
    );
    assert.deepEqual(createChannel.metadata, { zone: 'north' });
    const { createThing } = await ok<{
      createThing: { key: string; thing: { id: string; enabled: boolean } };
    }>(url, CREATE_THING, { input: { name: 'soil-sensor-1', metadata: { board: 'esp8266' } } }, token);
    assert.equal(createThing.thing.enabled, true);
    assert.match(createThing.key, /^[A-Za-z0-9_-]{43}$/);

    await ok(
      url,
      'mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }',
      {
        t: createThing.thing.id,
        c: createChannel.id,
      },
      token,
    );

    // read-your-writes: the very next query sees the connection
    const { thing } = await ok<{ thing: { channels: { totalCount: number; nodes: { id: string }[] } } }>(
      url,
      THING,
      { id: createThing.thing.id },
      token,
    );
    assert.deepEqual(
      thing.channels.nodes.map((c) => c.id),
      [createChannel.id],
    );
    const { channel } = await ok<{ channel: { things: { nodes: { id: string }[] } } }>(
      url,
      'query($id: ID!) { channel(id: $id) { things { nodes { id } } } }',
      { id: createChannel.id },
      token,
    );
    assert.deepEqual(
      channel.things.nodes.map((t) => t.id),
      [createThing.thing.id],
    );

    // the bridges' view: the key's credential lists the channel
    assert.deepEqual(await readCredential(stack.credentials, keyHash(createThing.key)), {
      thingId: createThing.thing.id,
      tenantId: owner.user.tenant.id,
      enabled: true,
      channels: [createChannel.id],
    });
  });

  test('things paginate with cursors and filter by name, metadata and channel', async () => {
    const token = owner.accessToken;
    for (let i = 0; i < 5; i++) {
      await ok(url, CREATE_THING, { input: { name: `leaf-${i}`, metadata: { row: i % 2 } } }, token);
    }
    type Page = {
      things: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string };
        edges: { node: { name: string } }[];
      };
    };
    const first = await ok<Page>(url, THINGS, { first: 2, filter: { nameContains: 'LEAF' } }, token);
    assert.equal(first.things.totalCount, 5);
    assert.equal(first.things.pageInfo.hasNextPage, true);
    const seen = first.things.edges.map((e) => e.node.name);
    let cursor = first.things.pageInfo.endCursor;
    for (;;) {
      const page = await ok<Page>(
        url,
        THINGS,
        { first: 2, after: cursor, filter: { nameContains: 'leaf' } },
        token,
      );
      seen.push(...page.things.edges.map((e) => e.node.name));
      if (!page.things.pageInfo.hasNextPage) break;
      cursor = page.things.pageInfo.endCursor;
    }
    assert.deepEqual(seen, ['leaf-0', 'leaf-1', 'leaf-2', 'leaf-3', 'leaf-4']);
    const odd = await ok<Page>(url, THINGS, { filter: { metadata: { row: 1 } } }, token);
    assert.deepEqual(
      odd.things.edges.map((e) => e.node.name),
      ['leaf-1', 'leaf-3'],
    );
  });

  test('update, disable, rotate key and delete: the bridges see each change', async () => {
    const token = owner.accessToken;
    const { createThing } = await ok<{ createThing: { key: string; thing: { id: string } } }>(
      url,
      CREATE_THING,
      { input: { name: 'led-1' } },
      token,
    );
    const id = createThing.thing.id;
    const updated = await ok<{ updateThing: { name: string; metadata: unknown } }>(
      url,
      'mutation($id: ID!) { updateThing(id: $id, input: { name: "led-kitchen", metadata: { color: "red" } }) { name metadata } }',
      { id },
      token,
    );
    assert.deepEqual(updated.updateThing, { name: 'led-kitchen', metadata: { color: 'red' } });
    await ok(url, 'mutation($id: ID!) { disableThing(id: $id) { enabled } }', { id }, token);
    assert.equal((await readCredential(stack.credentials, keyHash(createThing.key)))?.enabled, false);

    const rotated = await ok<{ rotateThingKey: { key: string } }>(
      url,
      'mutation($id: ID!) { rotateThingKey(id: $id) { key } }',
      { id },
      token,
    );
    const started = Date.now();
    await waitFor(
      async () => (await readCredential(stack.credentials, keyHash(createThing.key))) === undefined,
      {
        timeoutMs: 1_000,
        intervalMs: 10,
      },
    );
    assert.ok(
      Date.now() - started < 1_000,
      'the old key is revoked in the credentials bucket within a second',
    );
    assert.equal((await readCredential(stack.credentials, keyHash(rotated.rotateThingKey.key)))?.thingId, id);

    await ok(url, 'mutation($id: ID!) { deleteThing(id: $id) }', { id }, token);
    assert.equal(await readCredential(stack.credentials, keyHash(rotated.rotateThingKey.key)), undefined);
    assert.equal((await ok<{ thing: null }>(url, THING, { id }, token)).thing, null);
    assert.equal(
      await errorCode(url, 'mutation($id: ID!) { deleteThing(id: $id) }', { id }, token),
      'NOT_FOUND',
    );
  });

  test('refresh tokens rotate; a reused one revokes the session; logout ends it', async () => {
    const REFRESH = 'mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }';
    const first = await signup(url, 'rotating@example.com');
    const second = (await ok<{ refresh: Signed }>(url, REFRESH, { t: first.refreshToken })).refresh;
    assert.notEqual(second.refreshToken, first.refreshToken);
    await ok(url, '{ me { id } }', {}, second.accessToken);

    assert.equal(await errorCode(url, REFRESH, { t: first.refreshToken }), 'REFRESH_TOKEN_REUSED');
    // the whole family is gone: the newer refresh token and its access token too
    assert.equal(await errorCode(url, REFRESH, { t: second.refreshToken }), 'INVALID_REFRESH_TOKEN');
    await waitFor(
      async () => (await errorCode(url, '{ me { id } }', {}, second.accessToken)) === 'UNAUTHENTICATED',
      {
        timeoutMs: 5_000,
      },
    );

    const other = await ok<{ login: Signed }>(
      url,
      `mutation { login(input: { email: "rotating@example.com", password: "correct horse battery staple" }) { accessToken refreshToken } }`,
    );
    assert.equal(
      (
        await ok<{ logout: boolean }>(url, 'mutation($t: String!) { logout(refreshToken: $t) }', {
          t: other.login.refreshToken,
        })
      ).logout,
      true,
    );
    assert.equal(await errorCode(url, REFRESH, { t: other.login.refreshToken }), 'INVALID_REFRESH_TOKEN');
    assert.equal(await errorCode(url, '{ me { id } }', {}, other.login.accessToken), 'UNAUTHENTICATED');
  });

  test('a password change ends the other sessions and only the new password logs in', async () => {
    const LOGIN =
      'mutation($p: String!) { login(input: { email: "mover@example.com", password: $p }) { accessToken } }';
    const here = await signup(url, 'mover@example.com');
    const elsewhere = (await ok<{ login: Signed }>(url, LOGIN, { p: 'correct horse battery staple' })).login;
    await ok(
      url,
      'mutation { changePassword(currentPassword: "correct horse battery staple", newPassword: "a brand new passphrase") }',
      {},
      here.accessToken,
    );
    await ok(url, '{ me { id } }', {}, here.accessToken);
    await waitFor(
      async () => (await errorCode(url, '{ me { id } }', {}, elsewhere.accessToken)) === 'UNAUTHENTICATED',
      {
        timeoutMs: 5_000,
      },
    );
    assert.equal(await errorCode(url, LOGIN, { p: 'correct horse battery staple' }), 'INVALID_CREDENTIALS');
    await ok(url, LOGIN, { p: 'a brand new passphrase' });
  });

  test('an API key acts with its role until revoked', async () => {
    const created = await ok<{ createApiKey: { key: string; apiKey: { id: string; role: string } } }>(
      url,
      'mutation { createApiKey(input: { name: "notebook", role: analyst }) { key apiKey { id role } } }',
      {},
      owner.accessToken,
    );
    const key = created.createApiKey.key;
    assert.match(key, /^tak_/);
    const page = await ok<{ things: { totalCount: number } }>(url, THINGS, {}, key);
    assert.ok(page.things.totalCount >= 6);
    assert.equal(await errorCode(url, CREATE_THING, { input: { name: 'nope' } }, key), 'FORBIDDEN');
    await ok(
      url,
      'mutation($id: ID!) { revokeApiKey(id: $id) }',
      { id: created.createApiKey.apiKey.id },
      owner.accessToken,
    );
    await waitFor(async () => (await errorCode(url, THINGS, {}, key)) === 'UNAUTHENTICATED', {
      timeoutMs: 5_000,
    });
  });

  test('OIDC tokens from a configured provider are accepted with the mapped role; a wrong signature is refused', async () => {
    const sign = (key: CryptoKey, claims: Record<string, unknown> = {}) =>
      new SignJWT({ realm_access: { roles: ['farm-analyst'] }, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
        .setIssuer(OIDC_ISSUER)
        .setSubject('kc-user-7')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key);
    const good = await sign(idpKey.privateKey);
    const me = await ok<{ me: { role: string; tenant: { id: string } | null } }>(
      url,
      '{ me { role } }',
      {},
      good,
    );
    assert.equal(me.me.role, 'analyst');
    const things = await ok<{ things: { totalCount: number } }>(url, THINGS, {}, good);
    assert.equal(things.things.totalCount, 0, 'the OIDC tenant is not the owner’s tenant');

    const forged = await sign((await generateKeyPair('RS256')).privateKey);
    assert.equal(await errorCode(url, '{ me { role } }', {}, forged), 'UNAUTHENTICATED');
  });

  test('bootstrap: a device fetches its id, a fresh key, channels and content with its external key', async () => {
    const token = owner.accessToken;
    const { createChannel } = await ok<{ createChannel: { id: string } }>(
      url,
      CREATE_CHANNEL,
      { input: { name: 'bootstrap-ch' } },
      token,
    );
    const { createThing } = await ok<{ createThing: { key: string; thing: { id: string } } }>(
      url,
      CREATE_THING,
      { input: { name: 'esp-1', externalId: 'aa:bb:cc:dd:ee:ff', externalKey: 'factory-secret-1' } },
      token,
    );
    await ok(
      url,
      `mutation($t: ID!, $c: ID!) { configureBootstrap(input: {
        thingId: $t, externalId: "aa:bb:cc:dd:ee:ff", externalKey: "factory-secret-1",
        channelIds: [$c], content: "{\\"interval\\":30}" }) { id } }`,
      { t: createThing.thing.id, c: createChannel.id },
      token,
    );
    const wrong = await fetch(`${url}/things/bootstrap/aa:bb:cc:dd:ee:ff`, {
      headers: { authorization: 'Thing not-the-key' },
    });
    assert.equal(wrong.status, 404);
    assert.equal(wrong.headers.get('content-type'), 'application/problem+json');
    const res = await fetch(`${url}/things/bootstrap/aa:bb:cc:dd:ee:ff`, {
      headers: { authorization: 'Thing factory-secret-1' },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      id: string;
      key: string;
      channels: { id: string }[];
      content: string;
    };
    assert.equal(body.id, createThing.thing.id);
    assert.deepEqual(
      body.channels.map((c) => c.id),
      [createChannel.id],
    );
    assert.equal(body.content, '{"interval":30}');
    assert.equal((await readCredential(stack.credentials, keyHash(body.key)))?.thingId, createThing.thing.id);
    assert.equal(await readCredential(stack.credentials, keyHash(createThing.key)), undefined);

    const taken = await gql(
      url,
      CREATE_THING,
      {
        input: { name: 'esp-2', externalId: 'aa:bb:cc:dd:ee:ff', externalKey: 'another-secret' },
      },
      token,
    );
    assert.equal(taken.errors?.[0]?.extensions?.code, 'EXTERNAL_ID_TAKEN');
  });

  test('bad input gets precise errors', async () => {
    const token = owner.accessToken;
    const weak = await gql(
      url,
      'mutation { signup(input: { email: "w@example.com", password: "password123", tenantName: "x" }) { accessToken } }',
    );
    assert.equal(weak.errors?.[0]?.extensions?.code, 'WEAK_PASSWORD');
    assert.equal(weak.errors?.[0]?.extensions?.reason, 'TOO_COMMON');
    const duplicate = await gql(
      url,
      'mutation { signup(input: { email: "ANA@example.com", password: "another fine passphrase", tenantName: "x" }) { accessToken } }',
    );
    assert.equal(duplicate.errors?.[0]?.extensions?.code, 'EMAIL_TAKEN');
    const badEmail = await gql(
      url,
      'mutation { signup(input: { email: "not-an-email", password: "another fine passphrase", tenantName: "x" }) { accessToken } }',
    );
    assert.deepEqual(badEmail.errors?.[0]?.extensions, { code: 'VALIDATION_FAILED', field: 'input.email' });

    const unknown = v7();
    assert.equal((await ok<{ thing: null }>(url, THING, { id: unknown }, token)).thing, null);
    assert.equal((await ok<{ thing: null }>(url, THING, { id: 'not-a-uuid' }, token)).thing, null);
    assert.equal(
      await errorCode(
        url,
        'mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }',
        { t: unknown, c: unknown },
        token,
      ),
      'NOT_FOUND',
    );

    const notObject = await gql(url, CREATE_THING, { input: { name: 'x', metadata: [1, 2] } }, token);
    assert.deepEqual(notObject.errors?.[0]?.extensions, {
      code: 'VALIDATION_FAILED',
      field: 'input.metadata',
    });
    const garbled = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"query": "mutation { createThing(input: {name: \\"x\\"}) { key } }", "variables": {',
    });
    assert.equal(garbled.status, 400);
    const long = await gql(url, CREATE_THING, { input: { name: 'x'.repeat(201) } }, token);
    assert.deepEqual(long.errors?.[0]?.extensions, { code: 'VALIDATION_FAILED', field: 'input.name' });
    const huge = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(1_100_000)}` }),
    });
    assert.equal(huge.status, 413);
    assert.equal(await errorCode(url, '{ me { id } }', {}, 'garbage'), 'UNAUTHENTICATED');
    assert.equal(await errorCode(url, '{ things { totalCount } }'), 'UNAUTHENTICATED');
  });

  test('a body over the limit is refused with a 413 problem over HTTP, chunked too', async () => {
    const res = await postChunked(`${url}/graphql`, {
      head: new TextEncoder().encode('{"query": "{ me { id } }'),
      chunk: new TextEncoder().encode(`# ${'x'.repeat(65_534)}\n`),
      bytes: 8 * MAX_REQUEST_BYTES,
    });
    assert.equal(res.status, 413);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(((await res.json()) as { status: number }).status, 413);
    // the API still answers on a new connection
    assert.equal(await errorCode(url, '{ me { id } }'), 'UNAUTHENTICATED');
  });

  test('login is throttled after repeated failures, even with the right password', async () => {
    await signup(url, 'target@example.com');
    const LOGIN =
      'mutation($p: String!) { login(input: { email: "target@example.com", password: $p }) { accessToken } }';
    for (let i = 0; i < 5; i++) {
      assert.equal(await errorCode(url, LOGIN, { p: `wrong-${i}-password` }), 'INVALID_CREDENTIALS');
    }
    const locked = await gql(url, LOGIN, { p: 'correct horse battery staple' });
    assert.equal(locked.errors?.[0]?.extensions?.code, 'TOO_MANY_ATTEMPTS');
    assert.ok(Number(locked.errors?.[0]?.extensions?.retryAfter) > 0);
  });
});
