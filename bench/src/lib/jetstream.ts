// What the benchmarks ask JetStream: how many messages a stream holds, and when a processor's
// durable consumer has caught up with its stream.
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { connectNats, type NatsConfig } from '@telly/runtime';

export interface JetStreamProbe extends AsyncDisposable {
  /** Messages stored in `stream` (its last sequence: nothing is deleted during a run). */
  stored(stream: string): Promise<number>;
  /** Stream sequence up to which `consumer` has acknowledged everything. */
  ackFloor(stream: string, consumer: string): Promise<number>;
  /** Resolves once `consumer` has processed and acknowledged everything in `stream`. */
  caughtUp(stream: string, consumer: string, timeoutMs?: number): Promise<void>;
}

/** Connects as `nats` says: the operator's user on a `telly up` (its nats-server refuses anonymous clients). */
export async function probeJetStream(nats: NatsConfig): Promise<JetStreamProbe> {
  const nc: NatsConnection = await connectNats(nats, 'telly-bench');
  const jsm = await jetstreamManager(nc);
  const stored = async (stream: string) => (await jsm.streams.info(stream)).state.last_seq;
  const ackFloor = async (stream: string, consumer: string) =>
    (await jsm.consumers.info(stream, consumer)).ack_floor.stream_seq;
  return {
    stored,
    ackFloor,
    async caughtUp(stream, consumer, timeoutMs = 600_000) {
      await waitFor(
        async () => {
          const [last, floor] = await Promise.all([stored(stream), ackFloor(stream, consumer)]);
          return floor >= last;
        },
        { timeoutMs, intervalMs: 200, what: `${consumer} caught up with ${stream}` },
      );
    },
    async [Symbol.asyncDispose]() {
      await nc.close();
    },
  };
}
