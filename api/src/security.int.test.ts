// The API's bounds on its inputs, against a real NATS and Postgres: GraphQL operations too deep,
// aliased or costly are refused with their codes while normal ones stay fast; oversize chunked
// bodies are refused over real HTTP; login and bootstrap guessing is throttled without locking
// the owner out from another address; CSV cells cannot be formulas; a logout ends a live
// subscription at once.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { createLogger, runProcessor } from '@telly/runtime';
import { telemetryProjection } from '@telly/telemetry-pg';
import { v7 } from 'uuid';
import { MAX_REQUEST_BYTES } from './plugins/body-limit.ts';
import { csvField } from './plugins/csv-export.ts';
import { postChunked } from './testing/chunked.ts';
import {
  gql,
  ok,
  publishReading,
  type Stack,
  signup,
  startStack,
  subscribeSse,
  wsClient,
} from './testing/stack.ts';

let stack: Stack;
let owner: Awaited<ReturnType<typeof signup>>;

before(async () => {
  stack = await startStack();
  owner = await signup(stack.api.app, 'security-owner@example.com');
});

after(() => stack?.stop());

/** A POST over real HTTP from the loopback address `from` (127.0.0.0/8 is all this host's). */
function postFrom(
  from: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(path, stack.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function loginFrom(from: string, email: string, password: string): Promise<string | undefined> {
  const res = await postFrom(
    from,
    '/graphql',
    JSON.stringify({
      query:
        'mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }',
      variables: { e: email, p: password },
    }),
  );
  const parsed = JSON.parse(res.body) as { errors?: { extensions?: { code?: string } }[] };
  return parsed.errors?.[0]?.extensions?.code ?? 'OK';
}

describe('GraphQL limits', () => {
  const code = async (query: string, variables: Record<string, unknown> = {}) =>
    (await gql(stack.api.app, query, variables, owner.accessToken)).errors?.[0]?.extensions?.code;

  test('deep, aliased, long and costly operations are refused with their codes', async () => {
    const deep = `{ things { nodes { channels { nodes { things { nodes { channels { nodes { things { nodes { id } } } } } } } } } } }`;
    assert.equal(await code(deep), 'QUERY_TOO_DEEP');
    const aliases = `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    assert.equal(await code(aliases), 'TOO_MANY_ALIASES');
    const long = `{ ${Array.from({ length: 5000 }, () => '__typename').join(' ')} }`;
    assert.equal(await code(long), 'QUERY_TOO_LARGE');
    const nested = '{ things { nodes { channels { nodes { things { nodes { id } } } } } } }';
    assert.equal(await code(nested), 'QUERY_TOO_COMPLEX');
    // page sizes in variables count as well as literals
    const wide = 'query($n: Int) { things(first: $n) { nodes { channels(first: $n) { nodes { id } } } } }';
    assert.equal(await code(wide, { n: 500 }), 'QUERY_TOO_COMPLEX');
    assert.equal(await code(wide, { n: 10 }), undefined);
  });

  test('a normal query stays fast while refusals are answered', async () => {
    const deep = `{ things { nodes { channels { nodes { things { nodes { channels { nodes { id } } } } } } } } }`;
    const refusals = Array.from({ length: 50 }, () => code(deep));
    const started = performance.now();
    await ok(stack.api.app, '{ me { id } things { totalCount } }', {}, owner.accessToken);
    const tookMs = performance.now() - started;
    assert.ok(
      (await Promise.all(refusals)).every((c) => c === 'QUERY_TOO_DEEP' || c === 'QUERY_TOO_COMPLEX'),
    );
    assert.ok(tookMs < 1_000, `a normal query took ${Math.round(tookMs)} ms`);
  });

  test('the limits hold over graphql-ws too', async () => {
    const client = wsClient(stack.url, owner.accessToken);
    try {
      const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: name`).join(' ');
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: `subscription { telemetry { ${aliases} } }` },
          { next: () => {}, error: resolve, complete: () => resolve(undefined) },
        );
      });
      assert.match(JSON.stringify(errors), /TOO_MANY_ALIASES/);
    } finally {
      await client.dispose();
    }
  });

  test('field suggestions are not given away', async () => {
    const res = await gql(stack.api.app, '{ thingz { id } }', {}, owner.accessToken);
    assert.doesNotMatch(res.errors?.[0]?.message ?? '', /Did you mean/);
  });

  test('batched operations are refused', async () => {
    const res = await stack.api.app.fetch('http://telly.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.accessToken}` },
      body: JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    });
    assert.equal(res.status, 400);
  });
});

describe('request bodies', () => {
  for (const path of ['/graphql', '/things/bootstrap/some-device']) {
    test(`a chunked body over the limit is refused on ${path} over real HTTP`, async () => {
      const res = await postChunked(`${stack.url}${path}`, {
        chunk: new Uint8Array(64 * 1024).fill(0x20),
        bytes: 4 * MAX_REQUEST_BYTES,
      });
      assert.equal(res.status, 413);
    });
  }
});

describe('throttles', () => {
  test('login guessing is throttled, and the owner still logs in from another address', async () => {
    const victim = await signup(stack.api.app, 'victim@example.com', 'victim-tenant');
    const email = victim.user.email;
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 8; i++) codes.push(await loginFrom('127.0.0.2', email, `guess-${i}-wrong-password`));
    assert.deepEqual(codes.slice(0, 5), Array(5).fill('INVALID_CREDENTIALS'));
    assert.deepEqual(codes.slice(5), Array(3).fill('TOO_MANY_ATTEMPTS'));
    // the attacker's address is refused even with the right password: no oracle for guesses
    assert.equal(await loginFrom('127.0.0.2', email, 'correct horse battery staple'), 'TOO_MANY_ATTEMPTS');
    assert.equal(await loginFrom('127.0.0.3', email, 'correct horse battery staple'), 'OK');
  });

  test('many addresses filling the account counter do not lock the owner out of a clean one', async () => {
    const victim = await signup(stack.api.app, 'victim-2@example.com', 'victim-2-tenant');
    const email = victim.user.email;
    for (let a = 10; a < 40; a++) await loginFrom(`127.0.1.${a}`, email, 'a-wrong-password-guess');
    // the account counter is full: an address that guessed before is refused …
    assert.equal(await loginFrom('127.0.1.10', email, 'another-wrong-guess'), 'TOO_MANY_ATTEMPTS');
    // … and a clean one still gets in with the right password
    assert.equal(await loginFrom('127.0.2.1', email, 'correct horse battery staple'), 'OK');
  });

  test('guessing the current password with a stolen token is throttled like login', async () => {
    const user = await signup(stack.api.app, 'stolen-token@example.com', 'stolen-token-tenant');
    const CHANGE =
      'mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "a brand new passphrase") }';
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      codes.push(
        (await gql(stack.api.app, CHANGE, { c: `guess-${i}-wrong` }, user.accessToken)).errors?.[0]
          ?.extensions?.code,
      );
    }
    assert.deepEqual(codes, [...Array(5).fill('INVALID_CREDENTIALS'), 'TOO_MANY_ATTEMPTS']);
  });

  test('bootstrap key guessing is throttled per address with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 7; i++) {
      const res = await stack.api.app.fetch(`http://telly.test/things/bootstrap/victim-device`, {
        headers: { authorization: `Thing guess-${i}-of-a-key` },
      });
      statuses.push(res.status);
      retryAfter ??= res.headers.get('retry-after');
    }
    assert.deepEqual(statuses, [404, 404, 404, 404, 404, 429, 429]);
    assert.ok(Number(retryAfter) > 0);
  });

  test('a short bootstrap external key is refused when configured', async () => {
    const res = await gql(
      stack.api.app,
      'mutation($i: CreateThingInput!) { createThing(input: $i) { key } }',
      { i: { name: 'weak', externalId: 'weak-device', externalKey: 'abcd1234' } },
      owner.accessToken,
    );
    assert.equal(res.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED');
    assert.match(res.errors?.[0]?.message ?? '', /externalKey/);
  });
});

describe('CSV export', () => {
  test('text cells that a spreadsheet would run as formulas are neutralised, numbers are not', () => {
    for (const formula of ['=1+1', '+cmd', '-2+3', '@SUM(A1)', '\tx', '\rx']) {
      const cell = csvField(formula);
      assert.ok(cell.startsWith(`"'`), `${JSON.stringify(formula)} became ${cell}`);
    }
    assert.equal(csvField(-3.5), '-3.5');
    assert.equal(csvField('temperature'), 'temperature');
    assert.equal(csvField('a,"b"'), '"a,""b"""');
  });

  test('the export writes a stored formula as text and a negative value as a number', async () => {
    const projection = await runProcessor(telemetryProjection(stack.pool), {
      nc: stack.nc,
      logger: createLogger('security-test', { LOG_LEVEL: 'error' }),
    });
    try {
      const at = { tenantId: owner.user.tenant.id, channelId: v7(), thingId: v7() };
      await publishReading(stack.nc, at, [
        { n: 'note', vs: '=HYPERLINK("http://evil.example")' },
        { n: 'temperature', v: -1 },
      ]);
      const csv = await waitFor(async () => {
        const res = await stack.api.app.fetch(
          `http://telly.test/export/telemetry.csv?thingId=${at.thingId}`,
          {
            headers: { authorization: `Bearer ${owner.accessToken}` },
          },
        );
        const lines = (await res.text()).trim().split('\r\n');
        return lines.length === 3 ? lines : undefined;
      });
      const note = csv.find((l) => l.includes(',note,'));
      const temperature = csv.find((l) => l.includes(',temperature,'));
      assert.match(note ?? '', /,"'=HYPERLINK\(""http:\/\/evil\.example""\)",/);
      assert.match(temperature ?? '', /,-1,/);
    } finally {
      await projection.stop();
    }
  });
});

/** A live telemetry subscription over SSE with `token`, delivering points once it returns. */
async function liveSubscription(token: string) {
  const at = { tenantId: owner.user.tenant.id, channelId: v7(), thingId: v7() };
  let live = false;
  const controller = new AbortController();
  const ended = subscribeSse(
    stack.url,
    'subscription($t: ID!) { telemetry(thingId: $t) { name } }',
    { t: at.thingId },
    token,
    controller.signal,
    () => {
      live = true;
    },
  );
  await waitFor(
    async () => {
      await publishReading(stack.nc, at, [{ n: 'probe', v: 1 }]);
      return live;
    },
    { what: 'subscription live' },
  );
  return {
    /** How long after `since` the server ended it, and with which code (5 s at most). */
    async end(since: number): Promise<{ tookMs: number; code: string | undefined }> {
      const timer = setTimeout(() => controller.abort(), 5_000);
      const result = await ended;
      clearTimeout(timer);
      return { tookMs: performance.now() - since, code: result.errors?.[0]?.extensions?.code };
    },
    close: () => controller.abort(),
  };
}

const LOGIN_OWNER =
  'mutation { login(input: { email: "security-owner@example.com", password: "correct horse battery staple" }) { accessToken refreshToken } }';

describe('revocation reaches live subscriptions at once (their periodic re-check is 10 s)', () => {
  test('a logout ends a live subscription within two seconds', async () => {
    const { login } = await ok<{ login: { accessToken: string; refreshToken: string } }>(
      stack.api.app,
      LOGIN_OWNER,
    );
    const live = await liveSubscription(login.accessToken);
    try {
      const since = performance.now();
      await ok(stack.api.app, 'mutation($r: String!) { logout(refreshToken: $r) }', {
        r: login.refreshToken,
      });
      const { tookMs, code } = await live.end(since);
      assert.equal(code, 'UNAUTHENTICATED');
      assert.ok(tookMs < 2_000, `the subscription ran ${Math.round(tookMs)} ms after logout`);
    } finally {
      live.close();
    }
  });

  test('a refresh token presented twice ends the live subscriptions of its session', async () => {
    const { login } = await ok<{ login: { accessToken: string; refreshToken: string } }>(
      stack.api.app,
      LOGIN_OWNER,
    );
    const live = await liveSubscription(login.accessToken);
    try {
      const REFRESH = 'mutation($r: String!) { refresh(refreshToken: $r) { accessToken } }';
      await ok(stack.api.app, REFRESH, { r: login.refreshToken });
      const since = performance.now();
      const reuse = await gql(stack.api.app, REFRESH, { r: login.refreshToken });
      assert.equal(reuse.errors?.[0]?.extensions?.code, 'REFRESH_TOKEN_REUSED');
      const { tookMs, code } = await live.end(since);
      assert.equal(code, 'UNAUTHENTICATED');
      assert.ok(tookMs < 2_000, `the subscription ran ${Math.round(tookMs)} ms after the reuse`);
    } finally {
      live.close();
    }
  });

  test('a revoked API key is refused at once and its subscription ends within two seconds', async () => {
    const { createApiKey } = await ok<{ createApiKey: { key: string; apiKey: { id: string } } }>(
      stack.api.app,
      'mutation { createApiKey(input: { name: "dashboard", role: viewer }) { key apiKey { id } } }',
      {},
      owner.accessToken,
    );
    const key = createApiKey.key;
    // the key is in the credentials cache now
    await ok(stack.api.app, '{ things { totalCount } }', {}, key);
    const live = await liveSubscription(key);
    try {
      const since = performance.now();
      await ok(
        stack.api.app,
        'mutation($id: ID!) { revokeApiKey(id: $id) }',
        { id: createApiKey.apiKey.id },
        owner.accessToken,
      );
      const refused = await gql(stack.api.app, '{ things { totalCount } }', {}, key);
      assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      const { tookMs, code } = await live.end(since);
      assert.equal(code, 'UNAUTHENTICATED');
      assert.ok(tookMs < 2_000, `the subscription ran ${Math.round(tookMs)} ms after the revocation`);
    } finally {
      live.close();
    }
  });
});
