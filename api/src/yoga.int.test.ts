// The app in process: every request goes to `app.fetch` (no socket), over the stack's real NATS and
// Postgres. Errors, scopes, masking, malformed ids and the plain routes beside GraphQL.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { v7 } from 'uuid';
import { MAX_REQUEST_BYTES } from './plugins/body-limit.ts';
import { PROBLEM_JSON } from './plugins/problem.ts';
import {
  errorCode,
  gql,
  ok,
  type Signed,
  type Stack,
  send,
  signup,
  startStack,
  subscribeSse,
} from './testing/stack.ts';
import type { GraphqlApp } from './yoga.ts';

const PASSWORD = 'correct horse battery staple';
const CREATE_THING = `mutation($input: CreateThingInput!) { createThing(input: $input) { key thing { id } } }`;
const CREATE_CHANNEL = `mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }`;

/** Every log line of the API, parsed. */
const logLines: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'error' },
  new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  }),
);

let stack: Stack;
let app: GraphqlApp;
let owner: Signed;
let viewerToken: string;
let thingId: string;
let channelId: string;

before(async () => {
  stack = await startStack({ logger });
  app = stack.api.app;
  owner = await signup(app, `owner-${Date.now()}@example.com`, 'in-process');
  await ok(
    app,
    'mutation($input: InviteUserInput!) { inviteUser(input: $input) { id } }',
    { input: { email: 'viewer@example.com', password: PASSWORD, role: 'viewer' } },
    owner.accessToken,
  );
  const { login } = await ok<{ login: { accessToken: string } }>(
    app,
    'mutation { login(input: { email: "viewer@example.com", password: "correct horse battery staple" }) { accessToken } }',
  );
  viewerToken = login.accessToken;
  const created = await ok<{ createThing: { thing: { id: string } } }>(
    app,
    CREATE_THING,
    { input: { name: 'probe' } },
    owner.accessToken,
  );
  thingId = created.createThing.thing.id;
  const channel = await ok<{ createChannel: { id: string } }>(
    app,
    CREATE_CHANNEL,
    { input: { name: 'probe-channel' } },
    owner.accessToken,
  );
  channelId = channel.createChannel.id;
});
after(async () => {
  await stack?.stop();
});

describe('scopes', () => {
  test('an anonymous caller gets UNAUTHENTICATED, a refused token too', async () => {
    assert.equal(await errorCode(app, '{ things { totalCount } }'), 'UNAUTHENTICATED');
    assert.equal(await errorCode(app, '{ me { id } }'), 'UNAUTHENTICATED');
    assert.equal(await errorCode(app, '{ me { id } }', {}, 'not-a-token'), 'UNAUTHENTICATED');
    const res = await gql(app, 'mutation { renameTenant(name: "taken over") { id } }');
    assert.equal(res.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.deepEqual(res.errors?.[0]?.path, ['renameTenant']);
  });

  test('a viewer reads, but gets FORBIDDEN from what needs a higher role, and nothing changes', async () => {
    const read = await ok<{ things: { totalCount: number } }>(
      app,
      '{ things { totalCount } }',
      {},
      viewerToken,
    );
    assert.equal(read.things.totalCount, 1);
    const forbidden = await gql(app, 'mutation { renameTenant(name: "taken over") { id } }', {}, viewerToken);
    assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.match(forbidden.errors?.[0]?.message ?? '', /viewer may not use renameTenant/);
    assert.equal(
      await errorCode(app, CREATE_THING, { input: { name: 'by a viewer' } }, viewerToken),
      'FORBIDDEN',
    );
    assert.equal(await errorCode(app, '{ apiKeys { id } }', {}, viewerToken), 'FORBIDDEN');
    const { tenant } = await ok<{ tenant: { name: string } }>(app, '{ tenant { name } }', {}, viewerToken);
    assert.equal(tenant.name, 'in-process');
  });
  test('subscriptions are authorized when they start: UNAUTHENTICATED, then FORBIDDEN', async () => {
    const WATCH = 'subscription($id: ID!) { projectionJob(id: $id) { id state } }';
    // the server ends a refused subscription at once; the signal only bounds a broken one
    const anonymous = await subscribeSse(app, WATCH, { id: v7() }, '', AbortSignal.timeout(10_000));
    assert.deepEqual(
      anonymous.errors?.map((e) => e.extensions?.code),
      ['UNAUTHENTICATED'],
    );
    const viewer = await subscribeSse(app, WATCH, { id: v7() }, viewerToken, AbortSignal.timeout(10_000));
    assert.deepEqual(
      viewer.errors?.map((e) => e.extensions?.code),
      ['FORBIDDEN'],
    );
  });
});

describe('error masking', () => {
  test('an unexpected failure reaches the client as an id and a code only, and the log has the cause', async () => {
    // a real failure of the read model: the table the query reads is not there
    await stack.pool.query('ALTER TABLE things RENAME TO things_elsewhere');
    let res: Awaited<ReturnType<typeof gql>>;
    let text: string;
    try {
      const response = await send(app, '/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.accessToken}` },
        body: JSON.stringify({ query: '{ things { totalCount } }' }),
      });
      text = await response.text();
      res = { status: response.status, ...JSON.parse(text) };
    } finally {
      await stack.pool.query('ALTER TABLE things_elsewhere RENAME TO things');
    }
    const error = res.errors?.[0];
    assert.equal(error?.message, 'Unexpected error.');
    assert.equal(error?.extensions?.code, 'INTERNAL_SERVER_ERROR');
    const errorId = error?.extensions?.errorId;
    assert.equal(typeof errorId, 'string');
    assert.deepEqual(Object.keys(error?.extensions ?? {}).sort(), ['code', 'errorId']);
    for (const leak of ['things', 'relation', 'does not exist', 'SELECT', 'at ', 'stack'])
      assert.ok(!text.replace('"things"', '').includes(leak), `the response mentions ${leak}: ${text}`);
    const logged = logLines.find((line) => line.errorId === errorId);
    assert.ok(logged, 'the error is logged with the id the client got');
    assert.match(JSON.stringify(logged.err), /things/);
  });

  test('expected failures keep their code and message', async () => {
    const res = await gql(app, 'mutation { connect(thingId: $t, channelId: $c) }');
    assert.equal(res.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    const notFound = await gql(
      app,
      'mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }',
      { t: v7(), c: channelId },
      owner.accessToken,
    );
    assert.equal(notFound.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.match(notFound.errors?.[0]?.message ?? '', /not found/);
  });
});

describe('malformed ids', () => {
  const MALFORMED = ['not-a-uuid', '', "1' OR '1'='1", '12345'];

  test('are answered exactly as unknown ids, by queries, mutations and filters', async () => {
    const token = owner.accessToken;
    const answer = async (query: string, variables: Record<string, unknown>) => {
      const res = await gql(app, query, variables, token);
      return JSON.stringify({
        data: res.data,
        codes: res.errors?.map((e) => e.extensions?.code),
      });
    };
    const cases: [string, (id: string) => Record<string, unknown>][] = [
      ['query($id: ID!) { thing(id: $id) { id } }', (id) => ({ id })],
      ['query($id: ID!) { channel(id: $id) { id } }', (id) => ({ id })],
      ['query($id: ID!) { command(id: $id) { id } }', (id) => ({ id })],
      ['query($f: ThingFilter) { things(filter: $f) { totalCount } }', (id) => ({ f: { channelId: id } })],
      ['query($t: ID) { telemetry(thingId: $t) { value } }', (id) => ({ t: id })],
      ['query($t: ID!) { latest(thingId: $t) { value } }', (id) => ({ t: id })],
      ['mutation($id: ID!) { deleteThing(id: $id) }', (id) => ({ id })],
      [
        'mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }',
        (id) => ({ t: id, c: channelId }),
      ],
      ['mutation($u: ID!) { setUserRole(userId: $u, role: viewer) { id } }', (id) => ({ u: id })],
      ['mutation($t: ID!) { sendCommand(thingId: $t, name: "reboot") { id } }', (id) => ({ t: id })],
    ];
    for (const [query, variables] of cases) {
      const unknown = await answer(query, variables(v7()));
      for (const malformed of [...MALFORMED, thingId.toUpperCase()]) {
        assert.equal(await answer(query, variables(malformed)), unknown, `${query} with ${malformed}`);
      }
    }
    // and nothing was deleted
    const { thing } = await ok<{ thing: { id: string } | null }>(
      app,
      'query($id: ID!) { thing(id: $id) { id } }',
      { id: thingId },
      token,
    );
    assert.equal(thing?.id, thingId);
  });

  test('in a list of ids, each malformed one names nothing', async () => {
    const configure = (channelIds: string[]) =>
      gql(
        app,
        `mutation($input: BootstrapInput!) { configureBootstrap(input: $input) { id } }`,
        {
          input: { thingId, externalId: 'aa:bb', externalKey: 'factory-secret', channelIds, content: '{}' },
        },
        owner.accessToken,
      );
    const res = await configure([channelId, 'not-a-uuid']);
    const unknown = await configure([channelId, v7()]);
    assert.equal(res.errors?.[0]?.extensions?.code, unknown.errors?.[0]?.extensions?.code);
    assert.equal(res.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });
});

describe('body limit', () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    send(app, '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      duplex: 'half',
    } as RequestInit);

  /** A JSON operation of about `bytes` bytes, streamed in 64 KiB chunks with no Content-Length. */
  function chunked(bytes: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
    const text = new TextEncoder().encode(JSON.stringify({ query: `{ __typename } # ${'x'.repeat(bytes)}` }));
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= text.byteLength) return controller.close();
        controller.enqueue(text.slice(offset, offset + 65_536));
        offset += 65_536;
      },
    });
    return { body, pulled: () => offset };
  }

  async function assertTooLarge(res: Response) {
    assert.equal(res.status, 413);
    assert.equal(res.headers.get('content-type'), PROBLEM_JSON);
    const problem = (await res.json()) as { status: number; title: string };
    assert.equal(problem.status, 413);
    assert.equal(problem.title, 'Content Too Large');
  }

  test('a declared Content-Length above the limit is refused before anything is read', async () => {
    await assertTooLarge(
      await post(JSON.stringify({ query: '{ __typename }' }), {
        'content-length': String(MAX_REQUEST_BYTES + 1),
      }),
    );
  });

  test('a body with no Content-Length is refused once its bytes pass the limit, and not read further', async () => {
    const big = chunked(4 * MAX_REQUEST_BYTES);
    await assertTooLarge(await post(big.body));
    assert.ok(big.pulled() <= MAX_REQUEST_BYTES + 4 * 65_536, `read ${big.pulled()} bytes`);
  });

  test('a streamed body within the limit is answered', async () => {
    const small = chunked(MAX_REQUEST_BYTES / 2);
    const res = await post(small.body);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { data: { __typename: 'Query' } });
  });
});

describe('routes beside GraphQL', () => {
  async function assertProblem(res: Response, status: number, headers: Record<string, string> = {}) {
    assert.equal(res.status, status);
    assert.equal(res.headers.get('content-type'), PROBLEM_JSON);
    for (const [name, value] of Object.entries(headers)) assert.equal(res.headers.get(name), value);
    const body = (await res.json()) as { type: string; status: number; title: string; detail: string };
    assert.equal(body.type, 'about:blank');
    assert.equal(body.status, status);
    assert.equal(typeof body.detail, 'string');
  }

  test('bootstrap: 405 with Allow, 401 with WWW-Authenticate, one 404 for an unknown id or key', async () => {
    await assertProblem(await send(app, '/things/bootstrap/aa:bb', { method: 'POST' }), 405, {
      allow: 'GET',
    });
    await assertProblem(await send(app, '/things/bootstrap/aa:bb'), 401, { 'www-authenticate': 'Thing' });
    for (const authorization of ['Thing wrong', 'Bearer factory-secret', 'Thing', 'Thing a b']) {
      await assertProblem(await send(app, '/things/bootstrap/aa:bb', { headers: { authorization } }), 404);
    }
    for (const externalId of ['%E0%A4%A', 'health']) {
      await assertProblem(
        await send(app, `/things/bootstrap/${externalId}`, { headers: { authorization: 'Thing x' } }),
        404,
      );
    }
  });

  test('the JWKS publishes the signing key', async () => {
    const res = await send(app, '/.well-known/jwks.json');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const { keys } = (await res.json()) as { keys: { kid: string; alg: string; use: string; d?: string }[] };
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.alg, 'EdDSA');
    assert.equal(keys[0]?.use, 'sig');
    assert.equal(keys[0]?.d, undefined, 'no private part');
  });

  test('CSV export: 405, 401, 400 as problems; a malformed id is an empty file', async () => {
    const path = `/export/telemetry.csv?thingId=${thingId}`;
    await assertProblem(await send(app, path, { method: 'POST' }), 405, { allow: 'GET' });
    await assertProblem(await send(app, path), 401);
    await assertProblem(await send(app, path, { headers: { authorization: 'Bearer not-a-token' } }), 401);
    const auth = { headers: { authorization: `Bearer ${viewerToken}` } };
    await assertProblem(await send(app, '/export/telemetry.csv', auth), 400);
    await assertProblem(await send(app, `${path}&from=yesterday`, auth), 400);
    await assertProblem(await send(app, `${path}&aggregate=MEDIAN`, auth), 400);
    await assertProblem(await send(app, `${path}&every=1h30m`, auth), 400);
    const res = await send(app, '/export/telemetry.csv?thingId=not-a-uuid', auth);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(
      await res.text(),
      'time,thing_id,channel_id,subtopic,name,unit,value,string_value,bool_value,data_value,sum\r\n',
    );
  });

  test('GraphiQL: a page whose assets are all served by the API itself, cached for good', async () => {
    const page = await send(app, '/graphql', { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.doesNotMatch(html, /__TITLE__|__OPTS__/);
    // `<` is written \u003c inside the page's script
    assert.match(
      html,
      /Bearer \\u003caccessToken from login>/,
      'the headers editor says where the token goes',
    );
    // every src and href, and the editor workers' URLs: paths on this origin only
    const urls = [...html.matchAll(/(?:src|href)="([^"]*)"|"(\/[^"]*\.js)"/g)].map((m) => m[1] ?? m[2] ?? '');
    assert.ok(urls.length >= 6, String(urls));
    assert.doesNotMatch(html, /https?:\/\/|\/\/unpkg|cdn/i);
    for (const url of urls) {
      assert.match(url, /^\/graphql\/graphiql\/[\w.-]+\/[\w.-]+$/, url);
      const asset = await send(app, url);
      assert.equal(asset.status, 200, url);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      const type = asset.headers.get('content-type') ?? '';
      if (url.endsWith('.js')) assert.match(type, /^text\/javascript/, url);
      if (url.endsWith('.css')) assert.match(type, /^text\/css/, url);
      assert.ok((await asset.arrayBuffer()).byteLength > 1_000, `${url} has content`);
    }
    assert.equal((await send(app, `${urls[0]?.replace(/[^/]+$/, '')}nothing.js`)).status, 404);
  });

  test('any other path is not found', async () => {
    assert.equal((await send(app, '/things')).status, 404);
  });
});
