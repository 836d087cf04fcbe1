import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from '@telly/runtime';
import { decodeEvent, type EventData, isEventOf, STREAMS, SUBJECT_PREFIXES } from '@telly/schemas';

/** A Kafka source as the tenant created it. */
export type KafkaSource = EventData<'kafka.source.created'> & { tenantId: string };
/** A Kafka sink as the tenant created it. */
export type KafkaSink = EventData<'kafka.sink.created'> & { tenantId: string };

/** A tenant's Kafka sources and sinks, `reg.<tenant>.kafka.*`; every tenant's without one. */
export function kafkaCatalogFilter(tenantId?: string): string {
  return `${SUBJECT_PREFIXES.REGISTRY}.${tenantId ?? '*'}.kafka.*`;
}

export interface CatalogListener {
  sourceCreated(source: KafkaSource): void;
  sourceDeleted(sourceId: string): void;
  sinkCreated(sink: KafkaSink): void;
  sinkDeleted(sinkId: string): void;
}

/**
 * Follows every tenant's Kafka sources and sinks in REGISTRY: the last entry of each
 * `reg.<tenant>.kafka.<id>` first (the current set), then each change as it is appended. An
 * ordered consumer: it resumes where it was after NATS reconnects.
 */
export async function followCatalog(
  js: JetStreamClient,
  logger: Logger,
  listener: CatalogListener,
): Promise<{ stop(): Promise<void>; caughtUp: Promise<void> }> {
  const consumer = await js.consumers.get(STREAMS.REGISTRY.name, {
    filter_subjects: kafkaCatalogFilter(), // one filter as a string: created by a subject naming it (least privilege)
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  const pending = (await consumer.info(true)).num_pending;
  let seen = 0;
  let markCaughtUp: () => void = () => {};
  const caughtUp = new Promise<void>((resolve) => {
    markCaughtUp = resolve;
  });
  if (pending === 0) markCaughtUp();
  const messages = await consumer.consume();
  const loop = (async () => {
    for await (const m of messages) {
      try {
        const event = decodeEvent(m.data);
        if (isEventOf(event, 'kafka.source.created')) {
          listener.sourceCreated({ ...event.data, tenantId: event.tenantId });
        } else if (isEventOf(event, 'kafka.source.deleted')) {
          listener.sourceDeleted(event.data.sourceId);
        } else if (isEventOf(event, 'kafka.sink.created')) {
          listener.sinkCreated({ ...event.data, tenantId: event.tenantId });
        } else if (isEventOf(event, 'kafka.sink.deleted')) {
          listener.sinkDeleted(event.data.sinkId);
        }
      } catch (err) {
        logger.error({ err, subject: m.subject }, 'a Kafka source or sink entry could not be applied');
      }
      if (++seen >= pending) markCaughtUp();
    }
  })();
  return {
    caughtUp,
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
