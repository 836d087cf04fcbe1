import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { type BridgeTestStack, startBridgeTestStack } from '@telly/bridge-core/testing';
import { waitFor } from '@telly/harness';
import { messageSubject, STREAMS } from '@telly/schemas';
import type { Problem } from './problem.ts';
import { startTestBridge, type TestBridge } from './testing/bridge.ts';
import { type CurlResponse, curl, post } from './testing/curl.ts';

let stack: BridgeTestStack;
let bridge: TestBridge;
before(async () => {
  stack = await startBridgeTestStack();
  // give up on an unreachable JetStream after ~1 s instead of the default 10 s
  bridge = await startTestBridge(stack, { publisher: { retryForMs: 1_000, ackTimeoutMs: 1_000 } });
});
after(async () => {
  await bridge?.close();
  await stack?.stop();
});

test('with NATS down nothing is acknowledged: 429/503 with Retry-After, and the retry is stored once', async (t) => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const send = (subtopic: string, idempotencyKey: string) =>
    post(`${bridge.url}/channels/${channelId}/messages/${subtopic}`, {
      key: thing.key,
      contentType: 'application/senml+json',
      body: '[{"n":"temp","v":21.5}]',
      headers: [`Idempotency-Key: ${idempotencyKey}`],
    });
  // the thing's key is cached from here on, as for any device that has been sending
  assert.equal((await send('before', 'm-1')).status, 202);

  await stack.nats.process.stop();
  try {
    const timed = async (request: Promise<CurlResponse>) => {
      const started = performance.now();
      const res = await request;
      return { res, ms: Math.round(performance.now() - started) };
    };
    const [known, unseen] = await Promise.all([
      // a cached key: Ingest's publish gives up after the publisher's retry window
      timed(send('outage', 'm-2')),
      // a key the bridge has never seen cannot be looked up: unavailable, not "unknown key"
      timed(
        post(`${bridge.url}/channels/${channelId}/messages`, {
          key: 'never-seen-key',
          contentType: 'application/senml+json',
          body: '[{"n":"temp","v":21.5}]',
        }),
      ),
    ]);
    t.diagnostic(
      `known key: ${known.res.status} after ${known.ms} ms; unseen key: ${unseen.res.status} after ${unseen.ms} ms`,
    );
    for (const { res } of [known, unseen]) {
      assert.ok(res.status === 429 || res.status === 503, `${res.status} ${res.body}`);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(res.json<Problem>().reason, 'unavailable');
      assert.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After');
    }
    assert.ok(known.ms < 5_000, `answered after ${known.ms} ms`);
    assert.equal(unseen.res.status, 503);

    const health = await curl([`${bridge.url}/healthz`]);
    assert.equal(health.status, 503);
    assert.equal(health.json<{ checks: { nats: { status: string } } }>().checks.nats.status, 'down');
  } finally {
    await stack.nats.restart();
  }

  await waitFor(async () => (await curl([`${bridge.url}/healthz`])).status === 200, {
    timeoutMs: 15_000,
    what: 'the bridge healthy again after NATS restarted',
  });
  // the device retries under the same Idempotency-Key: whatever the client library sent on
  // reconnect, the message is in the log exactly once
  const retry = await send('outage', 'm-2');
  assert.equal(retry.status, 202, retry.body);
  const subject = messageSubject({
    tenant: tenantId,
    channel: channelId,
    thing: thing.thingId,
    subtopic: ['outage'],
  });
  const jsm = await jetstreamManager(stack.nc);
  const info = await jsm.streams.info(STREAMS.MESSAGES.name, { subjects_filter: subject });
  assert.equal(info.state.subjects?.[subject], 1);
});
