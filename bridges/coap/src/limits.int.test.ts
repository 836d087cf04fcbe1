// The bridge under pressure: the per-thing rate limit (4.29 with Max-Age), IPv6 beside IPv4 on
// one port, the log unavailable (5.03 with Max-Age), and a drain that answers what is in flight.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RateLimiter } from '@telly/bridge-core';
import { type BridgeTestStack, startBridgeTestStack } from '@telly/bridge-core/testing';
import { waitFor } from '@telly/harness';
import { startTestBridge, type TestCoapBridge } from './testing/bridge.ts';
import { coapPost } from './testing/coap-client.ts';
import { storedMessages } from './testing/log.ts';
import { conObserve, conPost, RawCoap } from './testing/raw-coap.ts';

let stack: BridgeTestStack;
before(async () => {
  stack = await startBridgeTestStack();
});
after(() => stack?.stop());

const refusal = (stderr: string) => stderr.trim().split('\n').at(-1) ?? '';
const maxAge = (p: { options: { name: string | number; value: Buffer }[] }) => {
  const value = p.options.find((o) => o.name === 'Max-Age')?.value;
  return value ? value.readUIntBE(0, value.length) : undefined;
};

test('over its rate limit a thing gets 4.29 with Max-Age, and nothing more is stored', async () => {
  const bridge = await startTestBridge(stack, { rateLimiter: new RateLimiter(1, 2) });
  try {
    const { tenantId, channelId } = await stack.tenant();
    const thing = await stack.thing(tenantId, [channelId]);
    const raw = await RawCoap.open(bridge.port);
    try {
      for (let i = 0; i < 3; i++) {
        raw.send(
          conPost({
            messageId: 100 + i,
            token: `0${i}`,
            path: ['channels', channelId, 'messages'],
            key: thing.key,
            payload: `[{"n":"n","v":${i}}]`,
          }),
        );
        await waitFor(() => raw.answers.length > i, { timeoutMs: 5_000, what: `answer ${i}` });
      }
      assert.deepEqual(
        raw.answers.map((p) => p.code),
        ['2.04', '2.04', '4.29'],
      );
      const limited = raw.answers[2]!;
      assert.ok((maxAge(limited) ?? 0) >= 1, 'Max-Age says when to retry');
      assert.equal(limited.payload.toString(), 'too many messages from this thing');
    } finally {
      raw.close();
    }
    assert.equal((await storedMessages(stack.nc, tenantId, thing.thingId)).length, 2);
  } finally {
    await bridge.close();
  }
});

test('one port serves IPv4 and IPv6 devices', async () => {
  const bridge = await startTestBridge(stack, { config: { host: '::' } });
  try {
    const { tenantId, channelId } = await stack.tenant();
    const thing = await stack.thing(tenantId, [channelId]);
    for (const host of ['127.0.0.1', '[::1]']) {
      const res = await coapPost(
        `coap://${host}:${bridge.port}/channels/${channelId}/messages?auth=${thing.key}`,
        { text: '{"temp": 20}' },
        { format: 50 },
      );
      assert.equal(res.stderr, '', host);
    }
    assert.equal((await storedMessages(stack.nc, tenantId, thing.thingId)).length, 2);
  } finally {
    await bridge.close();
  }
});

test('the log unavailable: 5.03 with Max-Age; and a drain answers the request in flight and tells observers, before the socket closes', async () => {
  const bridge = await startTestBridge(stack, { publisher: { retryForMs: 1_000, ackTimeoutMs: 500 } });
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const raw = await RawCoap.open(bridge.port);
  const post = (messageId: number) =>
    conPost({
      messageId,
      token: 'aa',
      path: ['channels', channelId, 'messages'],
      key: thing.key,
      payload: '[{"n":"n","v":1}]',
    });
  let closed = false;
  let observer: RawCoap | undefined;
  try {
    // the key is cached from here on, as for a device that has been sending
    raw.send(post(1));
    await waitFor(() => raw.answers.length === 1, { timeoutMs: 5_000, what: 'the first answer' });
    assert.equal(raw.answers[0]?.code, '2.04');
    // an observer of the thing's commands, to hear the drain
    observer = await RawCoap.open(bridge.port);
    observer.send(
      conObserve({
        messageId: 9,
        token: 'cafe',
        path: ['things', thing.thingId, 'commands'],
        key: thing.key,
      }),
    );
    await waitFor(() => observer?.answers.length === 1, {
      timeoutMs: 10_000,
      what: 'the registration answered',
    });
    assert.equal(observer.answers[0]?.code, '2.05');
    await stack.nats.process.stop();
    raw.send(post(2));
    await waitFor(() => raw.answers.length === 2, { timeoutMs: 10_000, what: 'the answer with NATS down' });
    assert.equal(raw.answers[1]?.code, '5.03');
    assert.ok((maxAge(raw.answers[1]!) ?? 0) >= 1);

    raw.send(post(3));
    await waitFor(
      async () => / 1$/m.test(await bridge.metrics.getSingleMetricAsString('telly_coap_requests_in_flight')),
      { timeoutMs: 5_000, what: 'a request in flight' },
    );
    await bridge.close();
    closed = true;
    // answered (refused: the log is still down) before the socket closed, not dropped
    await waitFor(() => raw.answers.length === 3, {
      timeoutMs: 2_000,
      what: 'the in-flight request answered',
    });
    assert.equal(raw.answers[2]?.messageId, 3);
    assert.equal(raw.answers[2]?.code, '5.03');
    // and the observation ended with a last notification saying so
    await waitFor(() => observer?.answers.length === 2, { timeoutMs: 2_000, what: 'the 5.03 notification' });
    assert.equal(observer.answers[1]?.code, '5.03');
    assert.equal(observer.answers[1]?.token.toString('hex'), 'cafe');
  } finally {
    raw.close();
    observer?.close();
    if (!closed) await bridge.close();
    await stack.nats.restart();
  }
});
