import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { type KafkaTestStack, startKafkaTestStack } from './testing/kafka-stack.ts';

let k: KafkaTestStack;
before(async () => {
  k = await startKafkaTestStack();
});
after(() => k?.stop());

const senml = (v: number) => JSON.stringify([{ n: 'temperature', u: 'Cel', v }]);

test('records produced with kcat become messages in the log, each once, with its topic/partition/offset as id', async () => {
  const { stack } = k;
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const topic = `plant-${thing.thingId.slice(-8)}`;
  await k.createSource(tenantId, { topic, format: 'senml-json', thingFrom: 'key', channelId });
  await k.produce(
    topic,
    [1, 2, 3].map((v) => `${thing.thingId}\t${senml(v)}`),
  );
  const { running } = await k.bridge();
  try {
    const messages = await waitFor(
      async () => {
        const m = await k.messages(tenantId, thing.thingId);
        return m.length >= 3 && m;
      },
      { what: 'three messages', timeoutMs: 30_000 },
    );
    assert.deepEqual(
      messages.map((m) => m.id),
      [0, 1, 2].map((o) => `kafka:${topic}:0:${o}`),
    );
    assert.ok(messages.every((m) => m.protocol === 'kafka'));
    assert.deepEqual(
      messages.map((m) => (JSON.parse(m.body) as Array<{ v: number }>)[0]?.v),
      [1, 2, 3],
    );
  } finally {
    await running.stop();
  }
});
