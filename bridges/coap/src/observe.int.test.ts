// Interop: coap-client observing (RFC 7641) a thing's commands and a channel, reporting results,
// and receiving a notification block-wise (RFC 7959 Block2); presence while observing.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { type BridgeTestStack, startBridgeTestStack } from '@telly/bridge-core/testing';
import { CommandQueries, component as commandsComponent } from '@telly/commands';
import { waitFor } from '@telly/harness';
import { createMetricsRegistry, HealthChecks, type RunningComponent } from '@telly/runtime';
import { eventFilter } from '@telly/schemas';
import { startTestBridge, type TestCoapBridge } from './testing/bridge.ts';
import { coapClient, coapObserve, coapPost } from './testing/coap-client.ts';
import { conObserve, RawCoap, reset } from './testing/raw-coap.ts';

let stack: BridgeTestStack;
let bridge: TestCoapBridge;
let commands: RunningComponent;
before(async () => {
  stack = await startBridgeTestStack();
  bridge = await startTestBridge(stack);
  // the commands read model, to see the status an operator sees
  commands = await commandsComponent.start({
    name: commandsComponent.name,
    env: { NATS_URL: stack.natsUrl, DATABASE_URL: stack.pool.options.connectionString },
    logger: stack.logger,
    metrics: createMetricsRegistry('commands'),
    health: new HealthChecks(),
  });
});
after(async () => {
  await commands?.stop();
  await bridge?.close();
  await stack?.stop();
});

const uri = (path: string, key: string) => `coap://127.0.0.1:${bridge.port}${path}?auth=${key}`;
const refusal = (stderr: string) => stderr.trim().split('\n').at(-1) ?? '';

/** An observer (coap-client -s) and the notifications it printed, one per line. */
function observer(path: string, key: string, seconds = 30): { process: ChildProcess; lines: () => string[] } {
  const process = coapObserve(uri(path, key), seconds);
  let out = '';
  process.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  // complete lines only: a block-wise notification is printed block by block
  const complete = () => out.split('\n').slice(0, -1);
  return { process, lines: () => complete().filter((line) => line.startsWith('{') || line.startsWith('[')) };
}

const stop = async (p: ChildProcess) => {
  if (p.exitCode === null) {
    p.kill('SIGINT');
    await once(p, 'exit');
  }
};

test('commands: a pending one on registration and a live one, acknowledged, results reported; status SUCCEEDED and FAILED', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const other = await stack.thing(tenantId, [channelId]);
  const pending = await stack.requestCommand(tenantId, thing.thingId);
  const obs = observer(`/things/${thing.thingId}/commands`, thing.key);
  try {
    await waitFor(() => obs.lines().some((l) => l.includes(pending)), {
      timeoutMs: 10_000,
      what: 'the pending command notified',
    });
    const live = await stack.requestCommand(tenantId, thing.thingId);
    await waitFor(() => obs.lines().some((l) => l.includes(live)), {
      timeoutMs: 10_000,
      what: 'the live command',
    });
    const delivery = JSON.parse(obs.lines().find((l) => l.includes(live)) ?? '{}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(delivery).sort(), ['expiresAt', 'id', 'name', 'payload']);

    const result = (id: string, key: string, body: string, owner = thing.thingId) =>
      coapPost(uri(`/things/${owner}/commands/${id}/result`, key), { text: body }, { format: 50 });
    assert.equal(
      (await result(pending, thing.key, '{"status":"succeeded","result":{"led":"on"}}')).stderr,
      '',
    );
    assert.equal((await result(live, thing.key, '{"status":"failed","reason":"relay stuck"}')).stderr, '');
    const foreign = await result(live, other.key, '{"status":"succeeded"}');
    assert.match(refusal(foreign.stderr), /^4\.03 command \S+ is another thing's/);

    const queries = new CommandQueries(stack.pool);
    await waitFor(async () => (await queries.command(tenantId, live))?.status === 'failed', {
      timeoutMs: 10_000,
      what: 'the live command failed',
    });
    const done = await queries.command(tenantId, pending);
    assert.equal(done?.status, 'succeeded');
    assert.deepEqual(done?.result, { led: 'on' });
    const events = await stack.events(
      eventFilter({ tenant: tenantId, type: 'command', thing: thing.thingId }),
    );
    const delivered = events.filter((e) => e.type === 'command.delivered');
    assert.deepEqual(
      delivered.map((e) => (e.type === 'command.delivered' ? [e.data.commandId, e.data.protocol] : [])),
      [
        [pending, 'coap'],
        [live, 'coap'],
      ],
      'each delivered once, when the observer acknowledged it',
    );
  } finally {
    await stop(obs.process);
  }
});

test("a thing may not observe another thing's commands (4.03) nor an unconnected channel (4.03)", async () => {
  const { tenantId, channelId } = await stack.tenant();
  const other = await stack.channel(tenantId);
  const thing = await stack.thing(tenantId, [channelId]);
  const neighbour = await stack.thing(tenantId, [channelId]);
  const observe = (path: string, key: string) =>
    coapClient(['-s', '1', '-B', '1', '-o', '-', uri(path, key)]);
  const commands = await observe(`/things/${neighbour.thingId}/commands`, thing.key);
  assert.match(refusal(commands.stderr), /^4\.03 the commands of another thing/);
  const channel = await observe(`/channels/${other}/messages`, thing.key);
  assert.match(refusal(channel.stderr), /^4\.03 thing \S+ is not connected to channel/);
  const wrongKey = await observe(`/channels/${channelId}/messages`, 'nope');
  assert.equal(refusal(wrongKey.stderr), '4.01 unknown thing key');
});

test("a channel's observer gets what other things publish, a large message block-wise (Block2), not its own", async () => {
  const { tenantId, channelId } = await stack.tenant();
  const watcher = await stack.thing(tenantId, [channelId]);
  const sensor = await stack.thing(tenantId, [channelId]);
  const obs = observer(`/channels/${channelId}/messages`, watcher.key);
  try {
    // registered once the bridge counts it
    await waitFor(
      async () =>
        /resource="messages"[^\n]* 1$/m.test(
          await bridge.metrics.getSingleMetricAsString('telly_coap_observers'),
        ),
      { timeoutMs: 10_000, what: 'the observation registered' },
    );
    const post = (key: string, body: string) =>
      coapPost(uri(`/channels/${channelId}/messages`, key), { text: body }, { format: 110 });
    assert.equal((await post(watcher.key, '[{"n":"own","v":0}]')).stderr, '');
    assert.equal((await post(sensor.key, '[{"n":"small","v":1}]')).stderr, '');
    const records = Array.from({ length: 120 }, (_, i) => ({ n: `big${i}`, v: i }));
    assert.equal((await post(sensor.key, JSON.stringify(records))).stderr, '');
    await waitFor(() => obs.lines().length >= 2, { timeoutMs: 10_000, what: 'two notifications' });
    const [small, big] = obs.lines().map((l) => JSON.parse(l) as { n: string; v: number }[]);
    assert.deepEqual(
      small?.map((r) => r.n),
      ['small'],
    );
    assert.ok(JSON.stringify(big).length > 3_000, 'more than one 1024-byte block');
    assert.deepEqual(
      big?.map(({ n, v }) => ({ n, v })),
      records,
      'reassembled from its blocks',
    );
    assert.ok(!obs.lines().some((l) => l.includes('"own"')), 'not its own message');
  } finally {
    await stop(obs.process);
  }
});

test('presence: online while observing, offline once the observer deregisters', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const presence = async () =>
    (await stack.events(eventFilter({ tenant: tenantId, type: 'lifecycle', thing: thing.thingId }))).map(
      (e) =>
        e.type === 'thing.offline' ? `${e.type}:${e.data.protocol}:${e.data.reason}` : `${e.type}:coap`,
    );
  const obs = coapObserve(uri(`/channels/${channelId}/messages`, thing.key), 2);
  await waitFor(async () => (await presence()).length >= 1, { timeoutMs: 10_000, what: 'thing.online' });
  assert.deepEqual(await presence(), ['thing.online:coap']);
  await once(obs, 'exit');
  await waitFor(async () => (await presence()).length >= 2, { timeoutMs: 10_000, what: 'thing.offline' });
  assert.deepEqual(await presence(), ['thing.online:coap', 'thing.offline:coap:disconnected']);
});

test("a rotated key ends the thing's observation with 4.03; a thing not observing may still report a result", async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const obs = coapObserve(uri(`/things/${thing.thingId}/commands`, thing.key), 30);
  let err = '';
  obs.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  try {
    await waitFor(
      async () =>
        /resource="commands"[^\n]* 1$/m.test(
          await bridge.metrics.getSingleMetricAsString('telly_coap_observers'),
        ),
      { timeoutMs: 10_000, what: 'the observation registered' },
    );
    await stack.change(thing, 'rotate-key');
    await waitFor(() => err.includes('4.03'), { timeoutMs: 10_000, what: 'the observer told 4.03' });
    assert.match(err, /4\.03 the thing's credentials changed/);
    await waitFor(
      async () =>
        /resource="commands"[^\n]* 0$/m.test(
          await bridge.metrics.getSingleMetricAsString('telly_coap_observers'),
        ),
      { timeoutMs: 10_000, what: 'the observation removed' },
    );
    const other = await stack.thing(tenantId, [channelId]);
    const command = await stack.requestCommand(tenantId, other.thingId);
    const report = await coapPost(uri(`/things/${other.thingId}/commands/${command}/result`, other.key), {
      text: '{"status":"succeeded"}',
    });
    assert.equal(report.stderr, '', 'reported without observing');
    const queries = new CommandQueries(stack.pool);
    await waitFor(async () => (await queries.command(tenantId, command))?.status === 'succeeded', {
      timeoutMs: 10_000,
      what: 'the command succeeded',
    });
  } finally {
    await stop(obs);
  }
});

test('an observer that answers a notification with a Reset is removed, and goes offline', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const watcher = await stack.thing(tenantId, [channelId]);
  const sensor = await stack.thing(tenantId, [channelId]);
  const gauge = async () =>
    /resource="messages"[^\n]* (\d+)$/m.exec(
      await bridge.metrics.getSingleMetricAsString('telly_coap_observers'),
    )?.[1];
  const observers = Number((await gauge()) ?? 0);
  const raw = await RawCoap.open(bridge.port);
  try {
    raw.send(
      conObserve({
        messageId: 1,
        token: 'beef',
        path: ['channels', channelId, 'messages'],
        key: watcher.key,
      }),
    );
    await waitFor(() => raw.answers.length === 1, { timeoutMs: 10_000, what: 'the registration answered' });
    assert.equal(raw.answers[0]?.code, '2.05');
    assert.equal(Number(await gauge()), observers + 1);
    const post = await coapPost(
      uri(`/channels/${channelId}/messages`, sensor.key),
      { text: '[{"n":"x","v":1}]' },
      { format: 110 },
    );
    assert.equal(post.stderr, '');
    await waitFor(() => raw.answers.length === 2, { timeoutMs: 10_000, what: 'a notification' });
    const notification = raw.answers[1]!;
    assert.equal(notification.confirmable, true, 'notifications are confirmable');
    assert.equal(notification.token.toString('hex'), 'beef');
    raw.send(reset(notification.messageId));
    await waitFor(async () => Number(await gauge()) === observers, {
      timeoutMs: 5_000,
      what: 'the observer removed',
    });
    await waitFor(
      async () =>
        (
          await stack.events(eventFilter({ tenant: tenantId, type: 'lifecycle', thing: watcher.thingId }))
        ).some((e) => e.type === 'thing.offline'),
      { timeoutMs: 5_000, what: 'thing.offline' },
    );
  } finally {
    raw.close();
  }
});
