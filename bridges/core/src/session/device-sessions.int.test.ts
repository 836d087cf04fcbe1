import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '@telly/harness';
import { createMetricsRegistry, Publisher } from '@telly/runtime';
import { eventFilter } from '@telly/schemas';
import { v7 } from 'uuid';
import { isIngestError } from '../ingest-error.ts';
import { type BridgeMetrics, bridgeMetrics } from '../metrics.ts';
import { type BridgeTestStack, startBridgeTestStack } from '../testing/stack.ts';
import type { DeviceSession } from './device-session.ts';
import { DeviceSessions } from './device-sessions.ts';

let stack: BridgeTestStack;
let sessions: DeviceSessions;
let publisher: Publisher;
let closeIngest: () => void;
let metrics: BridgeMetrics;
before(async () => {
  stack = await startBridgeTestStack();
  const { ingest, credentials, close } = await stack.ingest('coap');
  closeIngest = close;
  publisher = new Publisher(jetstream(stack.nc));
  metrics = bridgeMetrics(createMetricsRegistry('device-sessions-test'));
  sessions = new DeviceSessions({
    ingest,
    credentials,
    jsm: await jetstreamManager(stack.nc),
    publisher,
    metrics,
    logger: stack.logger,
  });
});
after(async () => {
  sessions?.close();
  closeIngest?.();
  await stack?.stop();
});

const openConnections = async () =>
  (await metrics.connections.get()).values.find((v) => v.labels.protocol === 'coap')?.value ?? 0;

const presenceOf = async (tenantId: string, thingId: string) =>
  (await stack.events(eventFilter({ tenant: tenantId, type: 'lifecycle', thing: thingId }))).map((e) =>
    e.type === 'thing.online' || e.type === 'thing.offline'
      ? { type: e.type, protocol: e.data.protocol, reason: 'reason' in e.data ? e.data.reason : undefined }
      : { type: e.type },
  );

const commandEventsOf = async (tenantId: string, thingId: string) =>
  stack.events(eventFilter({ tenant: tenantId, type: 'command', thing: thingId }));

async function nextCommand(session: DeviceSession): Promise<string | undefined> {
  const feed = await session.commands();
  const next = await feed[Symbol.asyncIterator]().next();
  return next.done ? undefined : next.value.id;
}

test('a session is opened with its key (and claimed thing), counted, and records online and offline once, with its protocol', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const unauthenticated = (err: unknown) => isIngestError(err) && err.reason === 'unauthenticated';
  await assert.rejects(sessions.open({ key: 'wrong', remoteAddress: '192.0.2.1:1' }), unauthenticated);
  await assert.rejects(
    sessions.open({ key: thing.key, thingId: tenantId, remoteAddress: '192.0.2.1:1' }),
    unauthenticated,
  );
  const session = await sessions.open({
    key: thing.key,
    thingId: thing.thingId,
    remoteAddress: '192.0.2.1:1',
  });
  assert.equal(session.thing.thingId, thing.thingId);
  assert.equal(session.protocol, 'coap');
  assert.equal(sessions.size, 1);
  assert.equal(await openConnections(), 1);
  session.close('keepalive-timeout');
  session.close('disconnected');
  assert.equal(sessions.size, 0);
  assert.equal(await openConnections(), 0, 'counted down once');
  const expected = [
    { type: 'thing.online', protocol: 'coap', reason: undefined },
    { type: 'thing.offline', protocol: 'coap', reason: 'keepalive-timeout' },
  ];
  await waitFor(async () => (await presenceOf(tenantId, thing.thingId)).length >= 2, {
    timeoutMs: 5_000,
    what: 'online and offline recorded',
  });
  assert.deepEqual(await presenceOf(tenantId, thing.thingId), expected);
});

test('commands: pending ones are fed on start, acknowledged ones recorded delivered, unacknowledged ones go to the next session, expired ones to none', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const expired = await stack.requestCommand(tenantId, thing.thingId, 1);
  const pending = await stack.requestCommand(tenantId, thing.thingId);

  const first = await sessions.open({ key: thing.key, remoteAddress: '192.0.2.2:1' });
  assert.equal(await nextCommand(first), pending, 'the expired command is skipped');
  first.close('disconnected'); // not acknowledged: back to the log

  const second = await sessions.open({ key: thing.key, remoteAddress: '192.0.2.2:2' });
  const feed = (await second.commands())[Symbol.asyncIterator]();
  assert.equal((await feed.next()).value?.id, pending, 'redelivered to the next session');
  second.delivered(pending);
  const live = await stack.requestCommand(tenantId, thing.thingId);
  assert.equal((await feed.next()).value?.id, live, 'a command requested while connected arrives at once');
  second.delivered(live);
  await waitFor(async () => (await commandEventsOf(tenantId, thing.thingId)).length >= 2, {
    timeoutMs: 5_000,
    what: 'two command.delivered events',
  });
  const delivered = (await commandEventsOf(tenantId, thing.thingId)).map((e) =>
    e.type === 'command.delivered' ? [e.data.commandId, e.data.protocol] : [e.type],
  );
  assert.deepEqual(delivered, [
    [pending, 'coap'],
    [live, 'coap'],
  ]);
  assert.ok(!delivered.some(([id]) => id === expired));
  second.close('disconnected');
});

test("a result is recorded only for the session's own thing", async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const other = await stack.thing(tenantId, [channelId]);
  const session = await sessions.open({ key: thing.key, remoteAddress: '192.0.2.3:1' });
  const [ok, failed, foreign] = [v7(), v7(), v7()];
  assert.equal(
    session.reportResult({ thingId: other.thingId, commandId: foreign }, { status: 'succeeded' }),
    false,
  );
  assert.equal(
    session.reportResult(
      { thingId: thing.thingId, commandId: ok },
      { status: 'succeeded', result: { led: 'on' } },
    ),
    true,
  );
  assert.equal(
    session.reportResult(
      { thingId: thing.thingId, commandId: failed },
      { status: 'failed', reason: 'stuck' },
    ),
    true,
  );
  session.close('disconnected');
  await waitFor(async () => (await commandEventsOf(tenantId, thing.thingId)).length >= 2, {
    timeoutMs: 5_000,
    what: 'two results',
  });
  const results = (await commandEventsOf(tenantId, thing.thingId)).map((e) =>
    e.type === 'command.succeeded'
      ? [e.type, e.data.commandId, e.data.result]
      : e.type === 'command.failed'
        ? [e.type, e.data.commandId, e.data.reason]
        : [e.type],
  );
  assert.deepEqual(results, [
    ['command.succeeded', ok, { led: 'on' }],
    ['command.failed', failed, 'stuck'],
  ]);
  assert.deepEqual(
    await commandEventsOf(tenantId, other.thingId),
    [],
    'nothing recorded for the other thing',
  );
  const rejected = await stack.events(
    eventFilter({ tenant: tenantId, type: 'rejected', thing: thing.thingId }),
  );
  assert.deepEqual(
    rejected.map((e) => (e.type === 'message.rejected' ? [e.data.protocol, e.data.reason] : [e.type])),
    [['coap', 'forbidden']],
    "the result for another thing's command is recorded as refused",
  );
});

test('a rotated key or a disabled thing ends its sessions (kicked) within a second; others stay', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const rotated = await stack.thing(tenantId, [channelId]);
  const disabled = await stack.thing(tenantId, [channelId]);
  const bystander = await stack.thing(tenantId, [channelId]);
  const revokedAt = new Map<string, number>();
  const open = (key: string) =>
    sessions.open({
      key,
      remoteAddress: '192.0.2.4:1',
      onRevoked: (s) => revokedAt.set(s.thing.thingId, Date.now()),
    });
  const [a, b, c] = [await open(rotated.key), await open(disabled.key), await open(bystander.key)];
  const started = Date.now();
  await stack.change(rotated, 'rotate-key');
  await stack.change(disabled, 'disable');
  await waitFor(() => revokedAt.size === 2, { timeoutMs: 1_000, what: 'both sessions ended' });
  assert.ok((revokedAt.get(rotated.thingId) ?? Infinity) - started < 1_000);
  assert.equal(a.closed && b.closed, true);
  assert.equal(c.closed, false);
  assert.equal(revokedAt.has(bystander.thingId), false);
  c.close('disconnected');
  await waitFor(
    async () => (await presenceOf(tenantId, rotated.thingId)).some((e) => e.reason === 'kicked'),
    { timeoutMs: 5_000, what: 'thing.offline kicked' },
  );
});

test("a thing's new rate limit reaches its open session, which stays open", async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const session = await sessions.open({ key: thing.key, remoteAddress: '192.0.2.5:1' });
  assert.equal(session.thing.rateLimit, undefined);
  await stack.change(thing, { rateLimit: { perSecond: 1000, burst: 2000 } });
  await waitFor(() => session.thing.rateLimit?.perSecond === 1000, {
    timeoutMs: 1_000,
    what: 'the new limit',
  });
  assert.deepEqual(session.thing.rateLimit, { perSecond: 1000, burst: 2000 });
  await stack.change(thing, { rateLimit: null });
  await waitFor(() => session.thing.rateLimit === undefined, { timeoutMs: 1_000, what: 'the limit cleared' });
  assert.equal(session.closed, false);
  session.close('disconnected');
});
