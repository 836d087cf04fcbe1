// A 3-server JetStream cluster on local ports: it forms, keeps an R3 stream writable with one
// server killed, and the killed server catches up when it comes back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsCluster, waitFor } from '@telly/harness';
import { replicasCurrent } from './verify.ts';

test('a 3-server cluster keeps an R3 stream writable with one server SIGKILLed, and the server catches up', async () => {
  await using cluster = await NatsCluster.start();
  assert.equal(cluster.urls.length, 3);
  const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
    const js = jetstream(nc);
    for (let i = 0; i < 10; i++) await js.publish('r3.a', `before-${i}`, { msgID: `b${i}` });

    // kill the stream's leader: a new one is elected and writes go on
    const info = await jsm.streams.info('R3');
    assert.equal(info.cluster?.replicas?.length, 2, 'two followers beside the leader');
    const leader = cluster.servers.findIndex((_, i) => info.cluster?.leader === `telly-${i + 1}`);
    assert.ok(leader >= 0, `leader ${info.cluster?.leader} is one of ours`);
    await cluster.kill(leader);
    const acked = await waitFor(
      async () => js.publish('r3.a', 'during', { msgID: 'during', timeout: 2_000 }).catch(() => undefined),
      { timeoutMs: 30_000, what: 'a publish acked with the leader down' },
    );
    assert.equal(acked.duplicate, false);
    const during = await jsm.streams.info('R3');
    assert.notEqual(during.cluster?.leader, info.cluster?.leader);
    assert.equal(during.state.messages, 11);

    await cluster.restart(leader);
    await replicasCurrent(jsm, 'R3', 2);
  } finally {
    await nc.close();
  }
});
