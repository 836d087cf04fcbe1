import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { readCredential } from '@telly/registry';
import { keyHash } from './auth/secrets.ts';
import { errorCode, ok, type Signed, type Stack, signup, startStack } from './testing/stack.ts';

// A thing's own rate limit through GraphQL: set, read back, carried by its credential for the
// bridges, cleared; bounds answered with VALIDATION_FAILED; a viewer may not set it.

let stack: Stack;
let owner: Signed;
let thing: { id: string; key: string };

const SET = `mutation($id: ID!, $perSecond: Float, $burst: Int) {
  setThingRateLimit(thingId: $id, perSecond: $perSecond, burst: $burst) { id rateLimit { perSecond burst } }
}`;
type Set = { setThingRateLimit: { id: string; rateLimit: { perSecond: number; burst: number } | null } };

before(async () => {
  stack = await startStack();
  owner = await signup(stack.url, `rate-${randomBytes(4).toString('hex')}@example.com`);
  const { createThing } = await ok<{ createThing: { key: string; thing: { id: string } } }>(
    stack.url,
    'mutation { createThing(input: { name: "gateway" }) { key thing { id } } }',
    {},
    owner.accessToken,
  );
  thing = { id: createThing.thing.id, key: createThing.key };
});
after(() => stack?.stop());

test("setThingRateLimit sets the thing's own limit, its credential carries it, null clears it", async () => {
  const token = owner.accessToken;
  const read = `query($id: ID!) { thing(id: $id) { rateLimit { perSecond burst } } }`;
  assert.deepEqual(await ok(stack.url, read, { id: thing.id }, token), { thing: { rateLimit: null } });

  const set = await ok<Set>(stack.url, SET, { id: thing.id, perSecond: 1000, burst: 2000 }, token);
  assert.deepEqual(set.setThingRateLimit.rateLimit, { perSecond: 1000, burst: 2000 });
  assert.deepEqual(await ok(stack.url, read, { id: thing.id }, token), {
    thing: { rateLimit: { perSecond: 1000, burst: 2000 } },
  });
  assert.deepEqual((await readCredential(stack.credentials, keyHash(thing.key)))?.rateLimit, {
    perSecond: 1000,
    burst: 2000,
  });

  const cleared = await ok<Set>(stack.url, SET, { id: thing.id, perSecond: null, burst: null }, token);
  assert.equal(cleared.setThingRateLimit.rateLimit, null);
  const credential = await readCredential(stack.credentials, keyHash(thing.key));
  assert.ok(credential);
  assert.equal(credential.rateLimit, undefined);
});

test('out-of-bounds or half-given limits are VALIDATION_FAILED; a viewer is FORBIDDEN', async () => {
  const token = owner.accessToken;
  for (const [perSecond, burst] of [
    [0, 10],
    [-1, 10],
    [100_000.5, 10],
    [10, 0],
    [10, 1_000_001],
    [10, null],
    [null, 10],
  ]) {
    assert.equal(
      await errorCode(stack.url, SET, { id: thing.id, perSecond, burst }, token),
      'VALIDATION_FAILED',
      `${perSecond}/${burst}`,
    );
  }
  // the bounds themselves are allowed
  await ok(stack.url, SET, { id: thing.id, perSecond: 100_000, burst: 1_000_000 }, token);
  await ok(stack.url, SET, { id: thing.id, perSecond: 0.5, burst: 1 }, token);

  const viewerEmail = `viewer-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'correct horse battery staple';
  await ok(
    stack.url,
    'mutation($input: InviteUserInput!) { inviteUser(input: $input) { id } }',
    { input: { email: viewerEmail, password, role: 'viewer' } },
    token,
  );
  const { login } = await ok<{ login: { accessToken: string } }>(
    stack.url,
    'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
    { input: { email: viewerEmail, password } },
  );
  assert.equal(
    await errorCode(stack.url, SET, { id: thing.id, perSecond: 10, burst: 10 }, login.accessToken),
    'FORBIDDEN',
  );
});
