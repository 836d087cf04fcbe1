// Timed commands against a real nats-server (its message schedules) and Postgres: the revert
// is sent by the server at its time, shows in the read model, and can be cancelled until then.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { waitFor } from '@telly/harness';
import { isPublishError, type PgCheckpoint, Publisher } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import {
  commandSubject,
  createEvent,
  decodeEvent,
  EVENT_TYPE_HEADER,
  encodeEvent,
  STREAMS,
  scheduledCommandSubject,
} from '@telly/schemas';
import { v7 } from 'uuid';
import { commandsMigrations } from './migrations.ts';
import { requestedProjection, scheduledProjection, statusProjection } from './projection.ts';
import { CommandQueries } from './queries.ts';
import { cancelScheduledCommand, REVERT_OF_HEADER, requestCommand, SCHEDULE_HEADER } from './request.ts';

let stack: RuntimeTestStack;
let publisher: Publisher;
let queries: CommandQueries;
let scheduled: PgCheckpoint;

before(async () => {
  stack = await startRuntimeTestStack({ name: 'commands-scheduled-test', migrations: [commandsMigrations] });
  publisher = new Publisher(jetstream(stack.nc));
  queries = new CommandQueries(stack.pool);
  await stack.run(requestedProjection(stack.pool));
  await stack.run(statusProjection(stack.pool));
  const scheduledDef = scheduledProjection(stack.pool);
  scheduled = scheduledDef.checkpoint;
  await stack.run(scheduledDef);
});

after(() => stack?.stop());

/** Every command that reaches the thing's command subject (what a bridge delivers), with when. */
async function watchThing(tenant: string, thing: string) {
  const seen: { commandId: string; at: number; revertOf: string | undefined; payload: unknown }[] = [];
  const consumer = await jetstream(stack.nc).consumers.get(STREAMS.COMMANDS.name, {
    filter_subjects: [commandSubject({ tenant, thing })],
    deliver_policy: DeliverPolicy.All,
  });
  const messages = await consumer.consume();
  void (async () => {
    for await (const m of messages) {
      const event = decodeEvent(m.data);
      if (event.type !== 'command.requested') continue;
      seen.push({
        commandId: event.data.commandId,
        at: Date.now(),
        revertOf: m.headers?.get(REVERT_OF_HEADER) || undefined,
        payload: event.data.payload,
      });
    }
  })();
  return { seen, stop: () => messages.stop() };
}

test('a timed command sends its revert after the duration, and the history shows the schedule', async () => {
  const [tenant, thing] = [v7(), v7()];
  const watch = await watchThing(tenant, thing);
  const sent = await requestCommand(publisher, {
    tenantId: tenant,
    thingId: thing,
    name: 'led',
    payload: { on: true },
    ttlMs: 60_000,
    revert: { afterMs: 2_000, payload: { on: false } },
  });
  assert.ok(sent.revertCommandId && sent.revertAt);
  await waitFor(async () => (await queries.command(tenant, sent.revertCommandId!))?.status === 'scheduled', {
    what: 'the revert scheduled in the read model',
  });
  const scheduled = await queries.revertOf(tenant, sent.commandId);
  assert.equal(scheduled?.id, sent.revertCommandId);
  assert.equal(scheduled?.revert_of, sent.commandId);
  assert.equal(scheduled?.scheduled_for?.getTime(), sent.revertAt.getTime());
  assert.deepEqual(scheduled?.payload, { on: false });
  // the command now, the revert once its time has come
  await waitFor(() => watch.seen.length === 2, { what: 'the revert sent', timeoutMs: 10_000 });
  watch.stop();
  assert.deepEqual(
    watch.seen.map((s) => [s.commandId, s.payload, s.revertOf]),
    [
      [sent.commandId, { on: true }, undefined],
      [sent.revertCommandId, { on: false }, sent.commandId],
    ],
  );
  assert.ok(watch.seen[1]!.at >= sent.revertAt.getTime(), 'not before its time');
  await waitFor(async () => (await queries.command(tenant, sent.revertCommandId!))?.status === 'pending', {
    what: 'the sent revert pending delivery',
  });
  // once sent, it cannot be cancelled
  await assert.rejects(
    cancelScheduledCommand(publisher, {
      tenantId: tenant,
      thingId: thing,
      commandId: sent.revertCommandId,
      scheduleSeq: Number(scheduled?.schedule_seq),
    }),
    (err) => isPublishError(err, 'WRONG_LAST_SEQUENCE'),
  );
});

test('a cancelled revert is never sent', async () => {
  const [tenant, thing] = [v7(), v7()];
  const watch = await watchThing(tenant, thing);
  const cancelled = await requestCommand(publisher, {
    tenantId: tenant,
    thingId: thing,
    name: 'pump',
    payload: 'on',
    ttlMs: 60_000,
    revert: { afterMs: 1_000, payload: 'off' },
  });
  const row = await waitFor(
    async () => {
      const r = await queries.command(tenant, cancelled.revertCommandId!);
      return r?.status === 'scheduled' ? r : undefined;
    },
    { what: 'the revert scheduled' },
  );
  await cancelScheduledCommand(publisher, {
    tenantId: tenant,
    thingId: thing,
    commandId: row.id,
    scheduleSeq: Number(row.schedule_seq),
  });
  // a second timed command, due a second later, marks the time by which the first would have fired
  const marker = await requestCommand(publisher, {
    tenantId: tenant,
    thingId: thing,
    name: 'pump',
    payload: 'on',
    ttlMs: 60_000,
    revert: { afterMs: 2_000, payload: 'off' },
  });
  await waitFor(() => watch.seen.some((s) => s.commandId === marker.revertCommandId), {
    what: 'the later revert sent',
    timeoutMs: 10_000,
  });
  watch.stop();
  assert.ok(
    !watch.seen.some((s) => s.commandId === cancelled.revertCommandId),
    'the cancelled revert was sent',
  );
  await waitFor(async () => (await queries.command(tenant, row.id))?.status === 'cancelled', {
    what: 'the revert cancelled in the read model',
  });
});

test('a cancellation applied before its schedule entry (a redelivery) leaves the command cancelled', async () => {
  const [tenant, thing, command, reverted] = [v7(), v7(), v7(), v7()];
  const subject = scheduledCommandSubject({ tenant, thing, command });
  const now = Date.now();
  const cancellation = createEvent(
    'command.cancelled',
    { tenantId: tenant, data: { commandId: command, thingId: thing } },
    { id: v7(), now },
  );
  await publisher.publish(subject, encodeEvent(cancellation), {
    headers: { [EVENT_TYPE_HEADER]: cancellation.type },
  });
  // the schedule entry after it, due in an hour (long after this test)
  const at = new Date(Math.ceil(now / 1000) * 1000 + 3_600_000);
  const entry = createEvent(
    'command.requested',
    {
      tenantId: tenant,
      data: {
        commandId: command,
        thingId: thing,
        name: 'pump',
        payload: 'off',
        expiresAt: new Date(at.getTime() + 60_000).toISOString(),
      },
    },
    { id: v7(), now },
  );
  const ack = await publisher.publish(subject, encodeEvent(entry), {
    headers: {
      [EVENT_TYPE_HEADER]: entry.type,
      [SCHEDULE_HEADER]: `@at ${at.toISOString().replace('.000Z', 'Z')}`,
      'Nats-Schedule-Target': commandSubject({ tenant, thing }),
      [REVERT_OF_HEADER]: reverted,
    },
  });
  await waitFor(async () => (await scheduled.lastSeq()) >= ack.seq, { what: 'both applied' });
  const row = await queries.command(tenant, command);
  assert.equal(row?.status, 'cancelled');
  assert.equal(row?.name, 'pump', 'the details of the schedule entry are shown');
  assert.equal(row?.revert_of, reverted);
});
