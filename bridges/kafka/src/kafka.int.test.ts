import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { waitFor } from '@telly/harness';
import { Publisher, type RunningProcessor, runMigrations, runProcessor } from '@telly/runtime';
import { createEvent } from '@telly/schemas';
import { TelemetryQueries, telemetryMigrations, telemetryProjection } from '@telly/telemetry-pg';
import { v7 } from 'uuid';
import { type KafkaTestStack, startKafkaTestStack } from './testing/kafka-stack.ts';

let k: KafkaTestStack;
let telemetry: RunningProcessor | undefined;
before(async () => {
  k = await startKafkaTestStack();
  // the Postgres telemetry projection, as telly up runs it: what a user queries
  await runMigrations(k.stack.pool, telemetryMigrations);
  telemetry = await runProcessor(telemetryProjection(k.stack.pool), {
    nc: k.stack.nc,
    logger: k.stack.logger,
  });
});
after(async () => {
  await telemetry?.stop();
  await k?.stop();
});

const senml = (v: number) => JSON.stringify([{ n: 'temperature', u: 'Cel', v }]);

test('records produced with kcat become messages in the log, each once, with its topic/partition/offset as id, and telemetry', async () => {
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
    // and as telemetry: the latest value of the thing is the last record's
    const latest = await waitFor(
      async () => {
        const rows = await new TelemetryQueries(k.stack.pool).latest(tenantId, thing.thingId);
        return rows[0]?.value === 3 && rows;
      },
      { what: 'the telemetry of the records', timeoutMs: 30_000 },
    );
    assert.deepEqual(
      latest.map((r) => [r.name, r.value, r.unit, r.channel_id]),
      [['temperature', 3, 'Cel', channelId]],
    );
  } finally {
    await running.stop();
  }
});

test('a record of another tenant’s thing, of a thing not connected to the channel, or invalid is refused: rejections topic and the thing’s rejections, nothing in the log', async () => {
  const { stack } = k;
  const a = await stack.tenant();
  const other = await stack.channel(a.tenantId);
  const ok = await stack.thing(a.tenantId, [a.channelId]);
  const unconnected = await stack.thing(a.tenantId, [other]);
  const b = await stack.tenant();
  const foreign = await stack.thing(b.tenantId, [b.channelId]);
  const topic = `refusals-${ok.thingId.slice(-8)}`;
  const rejections = `rejections-${ok.thingId.slice(-8)}`;
  const sourceId = await k.createSource(a.tenantId, {
    topic,
    format: 'senml-json',
    thingFrom: 'key',
    channelId: a.channelId,
  });
  const { running } = await k.bridge({ TELLY_KAFKA_REJECTIONS_TOPIC: rejections });
  try {
    await k.produce(topic, [
      `${foreign.thingId}\t${senml(1)}`,
      `${unconnected.thingId}\t${senml(2)}`,
      `${ok.thingId}\tnot senml`,
      `not-a-thing\t${senml(3)}`,
      `${ok.thingId}\t${senml(4)}`,
    ]);
    const refused = await waitFor(
      async () => {
        const r = await k.consume(rejections);
        return r.length >= 4 && r;
      },
      { what: 'four refused records', timeoutMs: 30_000 },
    );
    assert.deepEqual(
      refused.map((r) => [r.key, r.headers['telly-reason'], r.headers['telly-offset']]),
      [
        [foreign.thingId, 'unauthenticated', '0'],
        [unconnected.thingId, 'forbidden', '1'],
        [ok.thingId, 'invalid-payload', '2'],
        ['not-a-thing', 'unauthenticated', '3'],
      ],
    );
    assert.ok(
      refused.every((r) => r.headers['telly-source'] === sourceId && r.headers['telly-topic'] === topic),
    );
    assert.match(refused[0]?.headers['telly-detail'] ?? '', /not a thing of this tenant/);
    const stored = await waitFor(
      async () => {
        const m = await k.messages(a.tenantId, ok.thingId);
        return m.length >= 1 && m;
      },
      { what: 'the valid record in the log' },
    );
    assert.deepEqual(
      stored.map((m) => m.id),
      [`kafka:${topic}:0:4`],
    );
    assert.equal((await k.messages(a.tenantId, unconnected.thingId)).length, 0);
    assert.equal(await k.count(b.tenantId), 0, 'nothing in the other tenant');
    // visible to the owner as the thing's rejections; the other tenant sees nothing of it
    await waitFor(
      async () => (await stack.rejections(unconnected)) === 1 && (await stack.rejections(ok)) === 1,
      {
        what: 'the rejections of both things',
      },
    );
    assert.equal(await stack.rejections(foreign), 0);
  } finally {
    await running.stop();
  }
});

test('a sink streams the tenant’s messages and events (alerts, command status, refusals) to Kafka, keyed by thing, in order per thing, and nothing of another tenant', async () => {
  const { stack } = k;
  const a = await stack.tenant();
  const t1 = await stack.thing(a.tenantId, [a.channelId]);
  const t2 = await stack.thing(a.tenantId, [a.channelId]);
  const b = await stack.tenant();
  const foreign = await stack.thing(b.tenantId, [b.channelId]);
  const suffix = t1.thingId.slice(-8);
  await k.createSink(a.tenantId, { messagesTopic: `out-msg-${suffix}`, eventsTopic: `out-evt-${suffix}` });
  const { running, health } = await k.bridge();
  const { ingest, close } = await stack.ingest('http');
  try {
    const publish = (thing: typeof t1, channelId: string, v: number) =>
      ingest.publish({
        thing: { thingId: thing.thingId, tenantId: thing.tenantId, enabled: true, channels: [channelId] },
        channelId,
        subtopic: [],
        contentType: 'application/senml+json',
        body: new TextEncoder().encode(senml(v)),
      });
    const N = 200;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        Promise.all([publish(i % 2 ? t1 : t2, a.channelId, i), publish(foreign, b.channelId, i)]),
      ),
    );
    // a real event of the tenant: a refused publish of t1 (message.rejected)
    await ingest
      .publish({
        thing: { thingId: t1.thingId, tenantId: a.tenantId, enabled: true, channels: [a.channelId] },
        channelId: a.channelId,
        subtopic: [],
        contentType: 'application/senml+json',
        body: new TextEncoder().encode('nope'),
      })
      .catch(() => {});
    // an alert of the tenant's (as the rules processor raises it) and a command status
    const publisher = new Publisher(jetstream(stack.nc));
    const stamp = () => ({ id: v7(), now: Date.now() });
    const alertId = v7();
    await publisher.publishEvent(
      createEvent(
        'alert.raised',
        {
          tenantId: a.tenantId,
          data: {
            alertId,
            ruleId: v7(),
            thingId: t2.thingId,
            channelId: a.channelId,
            name: 'temperature',
            value: 93.5,
            threshold: 90,
            severity: 'critical',
            message: 'temperature above 90',
          },
        },
        stamp(),
      ),
    );
    await publisher.publishEvent(
      createEvent(
        'command.succeeded',
        { tenantId: a.tenantId, data: { commandId: v7(), thingId: t2.thingId, result: 'ok' } },
        stamp(),
      ),
    );
    const out = await waitFor(
      async () => {
        const r = await k.consume(`out-msg-${suffix}`);
        return r.length >= N && r;
      },
      { what: `${N} records in the messages topic`, timeoutMs: 30_000 },
    );
    assert.equal(out.length, N);
    assert.ok(out.every((r) => r.headers['Telly-Tenant'] === a.tenantId));
    for (const thing of [t1, t2]) {
      const mine = out.filter((r) => r.key === thing.thingId);
      assert.equal(mine.length, N / 2);
      assert.equal(new Set(mine.map((r) => r.partition)).size, 1, 'one partition per thing');
      const seqs = mine.map((r) => Number(r.headers['Telly-Seq']));
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
        'in log order',
      );
      assert.ok(mine.every((r) => r.headers['Telly-Thing'] === thing.thingId && r.headers['Content-Type']));
    }
    const events = await waitFor(
      async () => {
        const r = await k.consume(`out-evt-${suffix}`);
        return (
          r.some((e) => e.headers['Telly-Event'] === 'message.rejected') &&
          r.some((e) => e.headers['Telly-Event'] === 'command.succeeded') &&
          r
        );
      },
      { what: 'the rejection event in the events topic', timeoutMs: 30_000 },
    );
    const ofT2 = events.filter((e) => e.key === t2.thingId).map((e) => e.headers['Telly-Event']);
    assert.deepEqual(
      ofT2,
      ['alert.raised', 'command.succeeded'],
      'the alert and the command status, in order',
    );
    assert.equal(
      (JSON.parse(events.find((e) => e.key === t2.thingId)?.value ?? '{}') as { data?: { alertId?: string } })
        .data?.alertId,
      alertId,
    );
    const rejected = events.find((e) => e.headers['Telly-Event'] === 'message.rejected');
    assert.equal(rejected?.key, t1.thingId);
    assert.equal((JSON.parse(rejected?.value ?? '{}') as { tenantId?: string }).tenantId, a.tenantId);
    assert.ok(events.every((e) => e.headers['Telly-Tenant'] === a.tenantId));
    const report = await health.report();
    assert.equal(report.checks['kafka-sinks']?.status, 'up', JSON.stringify(report));
    assert.equal(report.checks.kafka?.status, 'up', JSON.stringify(report));
  } finally {
    close();
    await running.stop();
  }
});
