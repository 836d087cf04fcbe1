// What a user relies on when Kafka or the bridge fails: nothing lost, nothing stored twice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@telly/harness';
import { sleep } from '@telly/runtime';
import { type KafkaTestStack, startKafkaTestStack } from './testing/kafka-stack.ts';

/** How long the broker stays down under load (30 s; TELLY_OUTAGE_MS shortens it). */
const OUTAGE_MS = Number(process.env.TELLY_OUTAGE_MS ?? 30_000);

let k: KafkaTestStack;
before(async () => {
  k = await startKafkaTestStack();
});
after(() => k?.stop());

const senml = (v: number) => JSON.stringify([{ n: 'level', v }]);

async function fleet(n: number) {
  const { tenantId, channelId } = await k.stack.tenant();
  const other = await k.stack.channel(tenantId);
  const things = [];
  for (let i = 0; i < n; i++) things.push(await k.stack.thing(tenantId, [channelId, other]));
  return { tenantId, channelId, other, things };
}

/** `count` records per thing, interleaved, as kcat lines. */
const records = (things: Array<{ thingId: string }>, count: number) =>
  Array.from(
    { length: count * things.length },
    (_, i) => `${things[i % things.length]!.thingId}\t${senml(i)}`,
  );

/** The Kafka ids of every message of these things that came in from Kafka, checking none twice. */
async function fromKafka(tenantId: string, things: Array<{ thingId: string }>): Promise<number> {
  let total = 0;
  for (const t of things) {
    const ids = (await k.messages(tenantId, t.thingId))
      .filter((m) => m.protocol === 'kafka')
      .map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, `a record of ${t.thingId} is in the log twice`);
    total += ids.length;
  }
  return total;
}

test(`the broker stopped ${OUTAGE_MS / 1000} s under load, both ways: every record in the log once, every message in Kafka once`, {
  timeout: 360_000,
}, async (t) => {
  const { tenantId, channelId, other, things } = await fleet(4);
  const suffix = things[0]!.thingId.slice(-8);
  const inTopic = `outage-in-${suffix}`;
  const outTopic = `outage-out-${suffix}`;
  const perThing = 1_500;
  await k.produce(inTopic, records(things, perThing));
  await k.createSource(tenantId, { topic: inTopic, format: 'senml-json', thingFrom: 'key', channelId });
  await k.createSink(tenantId, { messagesTopic: outTopic });
  // 4 things at 150/s: the topic takes ~10 s to read, so the outage falls in the middle of it
  const { running } = await k.bridge({ TELLY_RATE_PER_SECOND: '150', TELLY_RATE_BURST: '150' });
  const { ingest, close } = await k.stack.ingest('http');
  let published = 0;
  let publishing = true;
  // devices keep publishing over HTTP meanwhile (on another channel): the sink has to hold them
  const load = (async () => {
    while (publishing) {
      await Promise.all(
        things.map((t) =>
          ingest.publish({
            thing: { thingId: t.thingId, tenantId, enabled: true, channels: [other] },
            channelId: other,
            subtopic: [],
            contentType: 'application/senml+json',
            body: new TextEncoder().encode(senml(published)),
          }),
        ),
      );
      published += things.length;
      await sleep(50);
    }
  })();
  const started = Date.now();
  try {
    await waitFor(async () => (await k.count(tenantId, channelId)) >= 600, {
      what: 'the source under way',
      timeoutMs: 30_000,
    });
    t.diagnostic(`the source under way ${Date.now() - started} ms after the bridge started`);
    const stopping = Date.now();
    await k.broker.pause();
    t.diagnostic(`the broker stopped in ${Date.now() - stopping} ms`);
    const during = await k.count(tenantId, channelId);
    await sleep(OUTAGE_MS); // the outage itself
    await k.broker.start();
    const back = Date.now();
    publishing = false;
    await load;
    assert.ok(during < perThing * things.length, 'the outage came before the topic was read');
    await waitFor(async () => (await k.count(tenantId, channelId)) >= perThing * things.length, {
      what: 'every record in the log',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    t.diagnostic(`every record in the log ${Date.now() - back} ms after the broker was back`);
    assert.equal(await fromKafka(tenantId, things), perThing * things.length, 'each record once');
    const total = await k.count(tenantId);
    assert.equal(total, perThing * things.length + published, 'the log holds each record and publish once');
    const out = await waitFor(
      async () => {
        const r = await k.consume(outTopic);
        return r.length >= total && r;
      },
      { what: 'every message of the tenant in the sink topic', timeoutMs: 120_000, intervalMs: 1_000 },
    );
    t.diagnostic(`every message in Kafka ${Date.now() - back} ms after the broker was back`);
    const seqs = out.map((r) => r.headers['Telly-Seq']);
    assert.equal(new Set(seqs).size, total, 'each message once in Kafka');
    assert.equal(out.length, total, 'no message twice in Kafka');
  } finally {
    publishing = false;
    await load.catch(() => {});
    close();
    await running.stop();
  }
});

test('the bridge SIGKILLed mid-batch: after a restart every record is in the log exactly once', {
  timeout: 240_000,
}, async (t) => {
  const { tenantId, channelId, things } = await fleet(4);
  const topic = `sigkill-${things[0]!.thingId.slice(-8)}`;
  const perThing = 2_500;
  await k.produce(topic, records(things, perThing));
  await k.createSource(tenantId, { topic, format: 'senml-json', thingFrom: 'key', channelId });
  const script = fileURLToPath(new URL('./testing/bridge-process.ts', import.meta.url));
  const start = async () => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...k.env({ TELLY_RATE_PER_SECOND: '600', TELLY_RATE_BURST: '600' }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await Promise.race([
      once(child.stdout, 'data'),
      once(child, 'exit').then(() => {
        throw new Error('the bridge process exited before it was ready');
      }),
    ])) as [Buffer];
    assert.match(line.toString(), /ready/);
    return child;
  };
  const first = await start();
  try {
    await waitFor(async () => (await k.count(tenantId)) >= 2_000, {
      what: 'a part of the topic in the log',
      timeoutMs: 60_000,
    });
  } finally {
    first.kill('SIGKILL');
    await once(first, 'exit');
  }
  const atKill = await k.count(tenantId);
  assert.ok(atKill < perThing * things.length, `killed mid-topic (${atKill} stored)`);
  const restarted = Date.now();
  const second = await start();
  try {
    await waitFor(async () => (await k.count(tenantId)) >= perThing * things.length, {
      what: 'the whole topic in the log',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    t.diagnostic(`the whole topic in the log ${Date.now() - restarted} ms after the restart`);
    assert.equal(await fromKafka(tenantId, things), perThing * things.length);
    assert.equal(await k.count(tenantId), perThing * things.length, 'nothing stored twice');
  } finally {
    second.kill('SIGTERM');
    await once(second, 'exit');
  }
});
