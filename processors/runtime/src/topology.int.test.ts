import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsServer } from '@telly/harness';
import { ensureTopology } from './topology.ts';

test('ensureTopology creates the streams, buckets and store once, then changes nothing', async () => {
  await using server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    const first = await ensureTopology(nc, jsm);
    assert.deepEqual(
      Object.entries(first).filter(([, what]) => what !== 'created'),
      [],
    );
    assert.deepEqual(Object.keys(first).sort(), [
      'COMMANDS',
      'DLQ',
      'EVENTS',
      'KV_credentials',
      'KV_state',
      'MESSAGES',
      'OBJ_models',
      'REGISTRY',
    ]);
    const second = await ensureTopology(nc, jsm);
    assert.ok(
      Object.values(second).every((what) => what === 'unchanged'),
      JSON.stringify(second),
    );

    // a changed setting is applied in place
    const third = await ensureTopology(nc, jsm, { messagesMaxAgeMs: 3_600_000 });
    assert.equal(third.MESSAGES, 'updated');
    assert.equal((await jsm.streams.info('MESSAGES')).config.max_age, 3_600_000 * 1_000_000);

    // dedupe by Nats-Msg-Id inside the window, per-message TTL on COMMANDS, registry cannot be purged
    const js = jetstream(nc);
    const a = await js.publish('msg.t.c.th', 'x', { msgID: 'th:1' });
    const b = await js.publish('msg.t.c.th', 'x', { msgID: 'th:1' });
    assert.equal(b.duplicate, true);
    assert.equal(a.seq, b.seq);
    await js.publish('cmd.t.th', 'on', { ttl: '1s' });
    await assert.rejects(jsm.streams.purge('REGISTRY'), /purge/i);
  } finally {
    await nc.close();
  }
});
