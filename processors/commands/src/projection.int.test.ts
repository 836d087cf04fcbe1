// The commands read model against a real NATS and Postgres: a command's status is moved only by
// events of the thing and tenant the command was sent to.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { waitFor } from '@telly/harness';
import { createMetricsRegistry, type PgCheckpoint, Publisher } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import { createEvent, type EventData, type EventType } from '@telly/schemas';
import { v7 } from 'uuid';
import { commandsMigrations } from './migrations.ts';
import { requestedProjection, statusProjection } from './projection.ts';
import { CommandQueries } from './queries.ts';

let stack: RuntimeTestStack;
let publisher: Publisher;
let queries: CommandQueries;
let requested: PgCheckpoint;
let status: PgCheckpoint;
const metrics = createMetricsRegistry('commands-test');

before(async () => {
  stack = await startRuntimeTestStack({ name: 'commands-test', migrations: [commandsMigrations] });
  publisher = new Publisher(jetstream(stack.nc));
  queries = new CommandQueries(stack.pool);
  const requestedDef = requestedProjection(stack.pool, { metrics });
  const statusDef = statusProjection(stack.pool, { metrics });
  requested = requestedDef.checkpoint;
  status = statusDef.checkpoint;
  await stack.run(requestedDef);
  await stack.run(statusDef);
});

after(() => stack?.stop());

/** Publishes the event and waits until the projection of its stream has applied it. */
async function publish<T extends EventType>(type: T, tenantId: string, data: EventData<T>): Promise<void> {
  const ack = await publisher.publishEvent(
    createEvent(type, { tenantId, data }, { id: v7(), now: Date.now() }),
  );
  const checkpoint = type === 'command.requested' ? requested : status;
  await waitFor(async () => (await checkpoint.lastSeq()) >= ack.seq, { what: `${type} applied` });
}

const request = (tenantId: string, commandId: string, thingId: string) =>
  publish('command.requested', tenantId, {
    commandId,
    thingId,
    name: 'reboot',
    payload: {},
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  });

async function foreignCount(): Promise<number> {
  const metric = await metrics.getSingleMetric('telly_command_foreign_results_total')?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

test("a result sent by another tenant's thing for a command id leaves the command as it was", async () => {
  const [tenantA, thingA, tenantB, thingB, commandId] = [v7(), v7(), v7(), v7(), v7()];
  await request(tenantA, commandId, thingA);
  const before = await foreignCount();
  await publish('command.failed', tenantB, { commandId, thingId: thingB, reason: 'forged' });
  await publish('command.succeeded', tenantA, { commandId, thingId: thingB, result: 'forged' });
  const row = await queries.command(tenantA, commandId);
  assert.equal(row?.status, 'pending');
  assert.equal(row?.reason, null);
  assert.equal(row?.result, null);
  assert.equal(await queries.command(tenantB, commandId), undefined);
  assert.equal((await foreignCount()) - before, 2);
  // the addressed thing's own result still counts
  await publish('command.succeeded', tenantA, { commandId, thingId: thingA, result: 'done' });
  const done = await queries.command(tenantA, commandId);
  assert.equal(done?.status, 'succeeded');
  assert.equal(done?.result, 'done');
});

test('a foreign result that arrives before the request is discarded when the request comes', async () => {
  const [tenantA, thingA, tenantB, thingB, commandId] = [v7(), v7(), v7(), v7(), v7()];
  const before = await foreignCount();
  await publish('command.failed', tenantB, { commandId, thingId: thingB, reason: 'forged' });
  await request(tenantA, commandId, thingA);
  const row = await queries.command(tenantA, commandId);
  assert.equal(row?.status, 'pending');
  assert.equal(row?.reason, null);
  const { rows } = await stack.pool.query('SELECT tenant_id, thing_id FROM commands WHERE id = $1', [
    commandId,
  ]);
  assert.deepEqual(rows, [{ tenant_id: tenantA, thing_id: thingA }]);
  assert.equal((await foreignCount()) - before, 1);
});

test("the addressed thing's result that arrives before the request is kept", async () => {
  const [tenant, thing, commandId] = [v7(), v7(), v7()];
  await publish('command.delivered', tenant, { commandId, thingId: thing, protocol: 'mqtt' });
  await request(tenant, commandId, thing);
  assert.equal((await queries.command(tenant, commandId))?.status, 'delivered');
});
