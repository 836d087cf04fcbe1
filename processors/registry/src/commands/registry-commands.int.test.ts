import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { type NatsAndPostgres, startNatsAndPostgres } from '@telly/harness';
import {
  createLogger,
  createPgPool,
  ensureTopology,
  runMigrations,
  runProcessor,
  runtimeMigrations,
} from '@telly/runtime';
import { KV_BUCKETS, keyHash } from '@telly/schemas';
import { v7 } from 'uuid';
import { isRegistryError, type RegistryErrorCode } from '../domain/errors.ts';
import { registryMigrations } from '../read-model/migrations.ts';
import { registryProjection } from '../read-model/projection.ts';
import { RegistryQueries } from '../read-model/queries.ts';
import { ProjectionWaiter } from '../read-model/wait.ts';
import { RegistryStore } from '../store.ts';
import type { CommandActor } from './command-handler.ts';
import { RegistryCommands } from './registry-commands.ts';

/** The form of a hash, which is all the events check. */
const PASSWORD_HASH = '$test$not-a-real-hash';

let stack: NatsAndPostgres;
let commands: RegistryCommands;
let queries: RegistryQueries;

before(async () => {
  stack = await startNatsAndPostgres();
  const logger = createLogger('registry-commands-test', { LOG_LEVEL: 'warn' });
  const nc = await connect({ servers: stack.nats.url });
  stack.onStop(() => nc.close());
  const jsm = await jetstreamManager(nc);
  await ensureTopology(nc, jsm);
  const pool = createPgPool({ connectionString: stack.db.url }, logger);
  stack.onStop(() => pool.end());
  await runMigrations(pool, runtimeMigrations, registryMigrations);
  const credentials = await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS);
  const running = await runProcessor(registryProjection({ pool, credentials }), { nc, logger });
  stack.onStop(() => running.stop());
  const waiter = new ProjectionWaiter(pool);
  stack.onStop(() => waiter.close());
  commands = new RegistryCommands(new RegistryStore(jetstream(nc), jsm), waiter, pool);
  queries = new RegistryQueries(pool);
});
after(() => stack.stop());

/** The RegistryError code a command fails with. */
async function refused(command: Promise<unknown>): Promise<RegistryErrorCode> {
  try {
    await command;
  } catch (err) {
    if (isRegistryError(err)) return err.code;
    throw err;
  }
  assert.fail('the command was not refused');
}

async function signup(email: string): Promise<CommandActor & { userId: string }> {
  const { tenantId, userId } = await commands.tenants.signup({
    tenantName: 'acme',
    email,
    passwordHash: PASSWORD_HASH,
  });
  return { tenantId, userId, actor: userId };
}

describe('registry commands', () => {
  test('signup makes a tenant with its owner, readable at once; an email has one account', async () => {
    const owner = await signup('ada@example.com');
    assert.equal((await queries.tenant(owner.tenantId))?.name, 'acme');
    assert.equal((await queries.user(owner.tenantId, owner.userId))?.role, 'owner');
    assert.equal((await queries.userByEmail('ada@example.com'))?.id, owner.userId);
    assert.equal(await refused(signup('ada@example.com')), 'TAKEN');
    assert.equal(
      await refused(
        commands.users.register(owner, {
          email: 'ada@example.com',
          passwordHash: PASSWORD_HASH,
          role: 'viewer',
        }),
      ),
      'TAKEN',
    );
    assert.equal((await queries.userByEmail('ada@example.com'))?.id, owner.userId, 'the first keeps it');
  });

  test('a tenant keeps an owner; roles change once there is another', async () => {
    const owner = await signup('grace@example.com');
    assert.equal(await refused(commands.users.setRole(owner, owner.userId, 'admin')), 'NOT_ALLOWED');
    assert.equal(await refused(commands.users.delete(owner, owner.userId)), 'NOT_ALLOWED');
    const second = await commands.users.register(owner, {
      email: 'hopper@example.com',
      passwordHash: PASSWORD_HASH,
      role: 'owner',
    });
    assert.equal(await queries.otherOwners(owner.tenantId, owner.userId), 1);
    await commands.users.setRole(owner, owner.userId, 'admin');
    assert.equal((await queries.user(owner.tenantId, owner.userId))?.role, 'admin');
    assert.equal(await refused(commands.users.delete(owner, second)), 'NOT_ALLOWED', 'now the last owner');
    await commands.users.delete(owner, owner.userId);
    assert.equal(await queries.user(owner.tenantId, owner.userId), undefined);
  });

  test('things and channels: connected at once, never across tenants, malformed ids not found', async () => {
    const a = await signup('a@example.com');
    const b = await signup('b@example.com');
    const thingId = await commands.things.create(a, { name: 'pump', metadata: {}, keyHash: keyHash('k1') });
    const channelId = await commands.channels.create(a, { name: 'plant', metadata: { site: 1 } });
    await commands.things.connect(a, thingId, channelId);
    const page = await queries.things(a.tenantId, {}, { channelId });
    assert.deepEqual(
      page.items.map((t) => t.id),
      [thingId],
    );
    const attempts = [
      () => commands.things.update(b, thingId, { name: 'stolen' }),
      () => commands.things.connect(b, thingId, channelId),
      () => commands.channels.delete(b, channelId),
      () => commands.things.delete(a, 'not-an-id'),
      () => commands.things.connect(a, thingId, 'reg.*.>'),
    ];
    for (const attempt of attempts) assert.equal(await refused(attempt()), 'NOT_FOUND');
    assert.equal((await queries.thing(a.tenantId, thingId))?.name, 'pump');
  });

  test('concurrent commands on one entity are each decided on the state they saw', async () => {
    // four writers race on one thing: each conflict means another won, so all land within the retries
    const owner = await signup('c@example.com');
    const thingId = await commands.things.create(owner, { name: 't', metadata: {}, keyHash: keyHash('k') });
    const channelIds = await Promise.all(
      [1, 2, 3, 4].map((n) => commands.channels.create(owner, { name: `c${n}`, metadata: {} })),
    );
    await Promise.all(channelIds.map((channelId) => commands.things.connect(owner, thingId, channelId)));
    const page = await queries.channels(owner.tenantId, {}, { thingId });
    assert.deepEqual(page.items.map((c) => c.id).sort(), [...channelIds].sort());
  });

  test('a bootstrap external id belongs to one thing', async () => {
    const owner = await signup('d@example.com');
    const [first, second] = await Promise.all(
      ['one', 'two'].map((name) =>
        commands.things.create(owner, { name, metadata: {}, keyHash: keyHash(name) }),
      ),
    );
    const configure = (thingId: string | undefined) =>
      commands.bootstrap.configure(owner, {
        thingId: thingId ?? v7(),
        externalId: 'serial-42',
        externalKeyHash: keyHash('external'),
        channelIds: [],
        content: '{}',
      });
    await configure(first);
    assert.equal(await refused(configure(second)), 'TAKEN');
    const configs = await queries.bootstrapsByExternalId('serial-42');
    assert.deepEqual(
      configs.map((c) => c.thing_id),
      [first],
    );
  });
});
