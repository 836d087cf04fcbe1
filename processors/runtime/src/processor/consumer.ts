import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { isConsumerNotFound } from '../nats-errors.ts';
import { DEFAULT_PROCESSOR } from './define.ts';
import type { ProcessorDefinition } from './types.ts';

const NS_PER_MS = 1_000_000;
/** The priority group pinned (ordered) processors pull from. */
export const PRIORITY_GROUP = 'telly';
/** How long a pinned instance may stay silent before the standby is pinned instead. */
export const PIN_TIMEOUT_MS = 5_000;

/**
 * How long a delivered message may stay unacked before it is redelivered. For an ordered
 * processor, at most half the pin's timeout: the messages a dead pinned instance held are due
 * again before the standby is pinned, and JetStream hands out what is due again before anything
 * new, in stream order, so the standby carries on exactly where the dead one stopped (with a
 * longer wait it would get the newer messages first, and the held ones after them, out of order).
 * A batch being handled is kept from redelivery meanwhile (`working()`).
 */
export function ackWaitMsOf(def: ProcessorDefinition): number {
  const ms = def.ackWaitMs ?? DEFAULT_PROCESSOR.ackWaitMs;
  return def.ordered ? Math.min(ms, PIN_TIMEOUT_MS / 2) : ms;
}

/** The durable pull consumer a processor runs on. */
export function consumerConfig(def: ProcessorDefinition): Partial<ConsumerConfig> {
  const config: Partial<ConsumerConfig> = {
    durable_name: def.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ackWaitMsOf(def) * NS_PER_MS,
    // deliveries are counted by the runtime, which moves a message to the DLQ itself
    max_deliver: -1,
    max_ack_pending: 20_000,
  };
  if (def.filter && def.filter.length > 0) config.filter_subjects = def.filter;
  if (def.ordered) {
    config.priority_policy = 'pinned_client';
    config.priority_groups = [PRIORITY_GROUP];
    config.priority_timeout = PIN_TIMEOUT_MS * NS_PER_MS;
    config.max_ack_pending = def.batch?.maxMessages ?? DEFAULT_PROCESSOR.maxMessages;
  }
  return config;
}

/** Creates the processor's consumer, or brings an existing one to the definition. */
export async function ensureConsumer(nc: NatsConnection, def: ProcessorDefinition): Promise<Consumer> {
  const jsm = await jetstreamManager(nc);
  const config = consumerConfig(def);
  const exists = await jsm.consumers.info(def.stream, def.name).then(
    () => true,
    (err: unknown) => {
      if (isConsumerNotFound(err)) return false;
      throw err;
    },
  );
  if (exists) await jsm.consumers.update(def.stream, def.name, config);
  else await jsm.consumers.add(def.stream, config);
  return jetstream(nc).consumers.get(def.stream, def.name);
}
