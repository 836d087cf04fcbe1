// The client address behind `telly up`'s proxy: the API counts login attempts by the address
// the proxy saw (its X-Forwarded-For entry), not by the proxy's loopback socket and not by
// whatever X-Forwarded-For the client sends.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { type Platform, startPlatform } from '../testing/platform.ts';

let platform: Platform;
const EMAIL = 'proxy-victim@example.com';
const PASSWORD = 'correct horse battery staple';

before(async () => {
  platform = await startPlatform();
  await platform.gql(
    'mutation($e: String!, $p: String!) { signup(input: { email: $e, password: $p, tenantName: "farm" }) { accessToken } }',
    { e: EMAIL, p: PASSWORD },
  );
});

after(() => platform?.stop());

/** A login through the public port from the loopback address `from`; the first error code or OK. */
function loginFrom(from: string, password: string, headers: Record<string, string> = {}): Promise<string> {
  const body = JSON.stringify({
    query: 'mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }',
    variables: { e: EMAIL, p: password },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      `${platform.apiUrl}/graphql`,
      { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const parsed = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
          resolve(parsed.errors?.[0]?.extensions?.code ?? 'OK');
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('guessing from one address is throttled there only, whatever X-Forwarded-For it sends', async () => {
  const codes: string[] = [];
  for (let i = 0; i < 6; i++) {
    codes.push(await loginFrom('127.0.0.2', `wrong-guess-${i}`, { 'x-forwarded-for': `198.51.100.${i}` }));
  }
  assert.deepEqual(codes, [...Array(5).fill('INVALID_CREDENTIALS'), 'TOO_MANY_ATTEMPTS']);
  // claiming the clean address in the header does not help the guesser …
  assert.equal(
    await loginFrom('127.0.0.2', PASSWORD, { 'x-forwarded-for': '127.0.0.3' }),
    'TOO_MANY_ATTEMPTS',
  );
  // … and the owner on that clean address is not locked out by the proxy's shared socket
  assert.equal(await loginFrom('127.0.0.3', PASSWORD), 'OK');
});
