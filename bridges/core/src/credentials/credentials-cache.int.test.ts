import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keyHash } from '@telly/schemas';
import { type BridgeTestStack, startBridgeTestStack } from '../testing/stack.ts';
import { CredentialsCache } from './credentials-cache.ts';

let stack: BridgeTestStack;
before(async () => {
  stack = await startBridgeTestStack();
});
after(() => stack?.stop());

test('a bridge-side credentials cache drops a revoked key within a second and tells its listeners', async () => {
  const cache = await CredentialsCache.open(stack.credentialsKv);
  try {
    const { tenantId, channelId } = await stack.tenant();
    const thing = await stack.thing(tenantId, [channelId]);
    assert.equal((await cache.get(keyHash(thing.key)))?.thingId, thing.thingId);
    const revoked = new Promise<number>((resolve) =>
      cache.onChange((hash, credential) => {
        if (hash === keyHash(thing.key) && credential === undefined) resolve(Date.now());
      }),
    );
    const started = Date.now();
    await stack.change(thing, 'delete');
    assert.ok((await revoked) - started < 1_000, 'revocation reached the cache within a second');
    assert.equal(await cache.get(keyHash(thing.key)), undefined);
  } finally {
    cache.close();
  }
});
