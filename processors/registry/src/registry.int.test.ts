import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type JetStreamManager, jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { waitFor } from '@telly/harness';
import { type RunningProcessor, runMigrations } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import { KV_BUCKETS, keyHash } from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';
import { readCredential } from './credentials.ts';
import { channelDecider } from './domain/channel.ts';
import { isRegistryError } from './domain/errors.ts';
import { tenantDecider } from './domain/tenant.ts';
import { thingDecider } from './domain/thing.ts';
import { READ_MODEL_TABLES, registryMigrations } from './read-model/migrations.ts';
import { registryProjection } from './read-model/projection.ts';
import { resetRegistryProjection } from './read-model/reset.ts';
import { ProjectionWaiter } from './read-model/wait.ts';
import { RegistryStore } from './store.ts';

let stack: RuntimeTestStack;
let jsm: JetStreamManager;
let pool: pg.Pool;
let kv: KV;
let store: RegistryStore;
let waiter: ProjectionWaiter;
let running: RunningProcessor | undefined;

async function startProjection(): Promise<void> {
  running = await stack.run(registryProjection({ pool, credentials: kv }));
}

before(async () => {
  stack = await startRuntimeTestStack({ name: 'registry-test' });
  ({ jsm, pool } = stack);
  await runMigrations(pool, registryMigrations);
  await runMigrations(pool, registryMigrations); // idempotent
  kv = await new Kvm(stack.nc).open(KV_BUCKETS.CREDENTIALS);
  store = new RegistryStore(jetstream(stack.nc), jsm);
  waiter = new ProjectionWaiter(pool);
  stack.onStop(() => waiter.close());
  await startProjection();
});
after(() => stack?.stop());

/** Every row of the read model, ordered, as JSON (claimed_at is the only wall-clock column). */
async function dump(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of READ_MODEL_TABLES) {
    if (table === 'registry_credential_outbox') continue;
    const { rows } = await pool.query(`SELECT * FROM ${table}`);
    out[table] = rows
      .map((row: Record<string, unknown>) => {
        delete row.claimed_at;
        return JSON.stringify(row);
      })
      .sort();
  }
  return out;
}

async function dumpKv(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry?.operation === 'PUT') out[key] = entry.json();
  }
  return out;
}

test('commands append with optimistic concurrency; the read model and credentials follow; a replay rebuilds both identically', async () => {
  const tenantId = v7();
  const thingId = v7();
  const channelId = v7();
  const [key1, key2] = [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')];
  const ref = (kind: 'tenant' | 'thing' | 'channel', id: string) => ({ tenantId, kind, id }) as const;

  await store.handle(tenantDecider, ref('tenant', tenantId), { type: 'create', tenantId, name: 'acme' });
  await store.handle(channelDecider, ref('channel', channelId), {
    type: 'create',
    channelId,
    name: 'greenhouse',
    metadata: { floor: 1 },
  });
  await store.handle(thingDecider, ref('thing', thingId), {
    type: 'create',
    thingId,
    name: 'soil-1',
    metadata: {},
    keyHash: keyHash(key1),
  });
  const channel = (await store.load(channelDecider, ref('channel', channelId))).state;
  const { seq: connectedSeq } = await store.handle(thingDecider, ref('thing', thingId), {
    type: 'connect',
    thingId,
    channel,
  });

  await waiter.waitFor(connectedSeq);
  const { rows } = await pool.query('SELECT thing_id, channel_id FROM connections WHERE tenant_id = $1', [
    tenantId,
  ]);
  assert.deepEqual(rows, [{ thing_id: thingId, channel_id: channelId }]);
  assert.deepEqual(await readCredential(kv, keyHash(key1)), {
    thingId,
    tenantId,
    enabled: true,
    channels: [channelId],
  });

  // a writer that decided on a stale state loses
  const stale = await store.read(ref('thing', thingId));
  await store.handle(thingDecider, ref('thing', thingId), { type: 'disable', thingId });
  const drafted = store.stamp(tenantId, { type: 'thing.enabled', data: { thingId } }, undefined, Date.now());
  await assert.rejects(
    store.append(ref('thing', thingId), [drafted], stale.lastSeq),
    (err) => isRegistryError(err) && err.code === 'CONFLICT',
  );

  // rotation revokes the old key in the bucket
  const { seq: rotatedSeq } = await store.handle(thingDecider, ref('thing', thingId), {
    type: 'rotate-key',
    thingId,
    keyHash: keyHash(key2),
  });
  await waiter.waitFor(rotatedSeq);
  assert.equal(await readCredential(kv, keyHash(key1)), undefined);
  assert.equal((await readCredential(kv, keyHash(key2)))?.enabled, false);

  // the thing's own rate limit reaches its credential; cleared, the credential has none again
  const setLimit = (rateLimit: { perSecond: number; burst: number } | null) =>
    store.handle(thingDecider, ref('thing', thingId), { type: 'set-rate-limit', thingId, rateLimit });
  await waiter.waitFor((await setLimit({ perSecond: 50, burst: 60 })).seq);
  assert.deepEqual((await readCredential(kv, keyHash(key2)))?.rateLimit, { perSecond: 50, burst: 60 });
  await waiter.waitFor((await setLimit(null)).seq);
  assert.equal((await readCredential(kv, keyHash(key2)))?.rateLimit, undefined);
  assert.deepEqual((await setLimit(null)).events, []);
  await waiter.waitFor((await setLimit({ perSecond: 1000.5, burst: 2000 })).seq);
  assert.deepEqual((await setLimit({ perSecond: 1000.5, burst: 2000 })).events, []);
  assert.deepEqual((await readCredential(kv, keyHash(key2)))?.rateLimit, { perSecond: 1000.5, burst: 2000 });

  // another tenant reading the same id sees nothing
  const foreign = await store.read({ tenantId: v7(), kind: 'thing', id: thingId });
  assert.deepEqual(foreign, { events: [], lastSeq: 0 });

  // a second thing deleted after connecting: no credential left behind
  const gone = v7();
  const goneKey = randomBytes(32).toString('base64url');
  await store.handle(thingDecider, ref('thing', gone), {
    type: 'create',
    thingId: gone,
    name: 'gone',
    metadata: {},
    keyHash: keyHash(goneKey),
  });
  await store.handle(thingDecider, ref('thing', gone), { type: 'connect', thingId: gone, channel });
  const { seq: lastSeq } = await store.handle(thingDecider, ref('thing', gone), {
    type: 'delete',
    thingId: gone,
  });
  await waiter.waitFor(lastSeq);
  assert.equal(await readCredential(kv, keyHash(goneKey)), undefined);

  const before = { tables: await dump(), kv: await dumpKv() };
  assert.ok((before.tables.things ?? []).length === 1 && Object.keys(before.kv).length === 1);

  await running?.stop();
  await resetRegistryProjection({ pool, credentials: kv, jsm });
  assert.deepEqual((await dump()).things, []);
  assert.deepEqual(await dumpKv(), {});
  await startProjection();
  await waitFor(async () => (await dump()).connections?.length === 1, { timeoutMs: 10_000 });
  const fresh = new ProjectionWaiter(pool); // the other one remembers the sequence before the reset
  await fresh.waitFor(lastSeq);
  await fresh.close();
  assert.deepEqual({ tables: await dump(), kv: await dumpKv() }, before);
});
