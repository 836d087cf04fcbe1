import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsServer, waitFor } from '@telly/harness';
import { isPublishError, Publisher } from './index.ts';
import { ensureTopology } from './topology.ts';

test('nats-server killed and restarted mid-run: every acked message is in the log once, in order per key', async () => {
  await using server = await NatsServer.start();
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  try {
    await ensureTopology(nc, await jetstreamManager(nc));
    const publisher = new Publisher(jetstream(nc), { retryForMs: 20_000, ackTimeoutMs: 1_000 });
    const n = 4_000;
    const keys = 20;
    const acked = new Set<string>();
    const refused: string[] = [];
    let restarted: Promise<void> | undefined;
    const results = [];
    for (let i = 0; i < n; i++) {
      const key = `th${i % keys}`;
      const id = `${key}:${i}`;
      results.push(
        publisher.publish(`msg.t.c.${key}`, JSON.stringify({ i }), { msgId: id, orderingKey: key }).then(
          () => acked.add(id),
          (err: unknown) => {
            assert.ok(isPublishError(err), String(err));
            refused.push(id);
          },
        ),
      );
      if (i === n / 4) {
        await waitFor(() => acked.size > n / 8, { what: 'some acks before the kill' });
        restarted = server.process.kill('SIGKILL').then(() => server.restart());
      }
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await restarted;
    await Promise.all(results);
    assert.ok(acked.size > n / 2, `most publishes survive the restart through retries (${acked.size})`);

    // read the whole stream back
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add('MESSAGES', { durable_name: 'check', ack_policy: 'none' as never });
    const consumer = await js.consumers.get('MESSAGES', 'check');
    const stored: { id: string; key: string; i: number }[] = [];
    const total = (await jsm.streams.info('MESSAGES')).state.messages;
    while (stored.length < total) {
      for await (const m of await consumer.fetch({ max_messages: 1_000, expires: 1_000 })) {
        const id = m.headers?.get('Nats-Msg-Id') ?? '';
        stored.push({ id, key: id.split(':')[0]!, i: Number(id.split(':')[1]) });
      }
    }
    const ids = stored.map((s) => s.id);
    assert.equal(new Set(ids).size, ids.length, 'no message stored twice');
    const missing = [...acked].filter((id) => !ids.includes(id));
    assert.deepEqual(missing, [], 'every acked message is in the log');
    for (let k = 0; k < keys; k++) {
      const order = stored.filter((s) => s.key === `th${k}`).map((s) => s.i);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `th${k} kept its order`,
      );
    }
  } finally {
    await nc.close();
  }
});

test('what JetStream refuses comes back as a typed PublishError', async () => {
  await using server = await NatsServer.start();
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  try {
    await ensureTopology(nc, await jetstreamManager(nc), { maxMessageBytes: 1_024 });
    const publisher = new Publisher(jetstream(nc), { retryForMs: 1_000, ackTimeoutMs: 300 });
    await assert.rejects(publisher.publish('msg.t.c.th', new Uint8Array(2_048), { msgId: 'big' }), {
      code: 'MESSAGE_TOO_LARGE',
    });
    await assert.rejects(
      publisher.publish('reg.t.thing.x', '{}', { msgId: 'r1', expectLastSubjectSequence: 42 }),
      { code: 'WRONG_LAST_SEQUENCE' },
    );
    await server.process.stop();
    const started = Date.now();
    await assert.rejects(publisher.publish('msg.t.c.th', 'x', { msgId: 'down' }), (err: unknown) => {
      assert.ok(isPublishError(err) && err.code === 'UNAVAILABLE' && err.retryable, String(err));
      return true;
    });
    assert.ok(Date.now() - started >= 1_000, 'retried for retryForMs before giving up');
  } finally {
    await nc.close();
  }
});
