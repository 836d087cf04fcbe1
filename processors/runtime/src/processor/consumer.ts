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

/** The durable pull consumer a processor runs on. */
export function consumerConfig(def: ProcessorDefinition): Partial<ConsumerConfig> {
  const config: Partial<ConsumerConfig> = {
    durable_name: def.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: (def.ackWaitMs ?? DEFAULT_PROCESSOR.ackWaitMs) * NS_PER_MS,
    // deliveries are counted by the runtime, which moves a message to the DLQ itself
    max_deliver: -1,
    max_ack_pending: 20_000,
  };
  if (def.filter && def.filter.length > 0) config.filter_subjects = def.filter;
  if (def.ordered) {
    config.priority_policy = 'pinned_client';
    config.priority_groups = [PRIORITY_GROUP];
    config.priority_timeout = 5_000 * NS_PER_MS;
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
