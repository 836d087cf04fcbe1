import Type from 'typebox';
import { data, defineEvent, Id } from './common.ts';

/**
 * The Kafka bridge's sources (Kafka topics into MESSAGES) and sinks (MESSAGES and EVENTS out to
 * Kafka topics) of a tenant, on `reg.<tenant>.kafka.<id>`: each source or sink is one subject,
 * created and deleted, never changed. The bridge and the API read the current set from the last
 * entry of each subject; the registry read model does not hold them.
 */

/** A Kafka topic name: what Kafka itself accepts (legal characters, at most 249). */
export const KAFKA_TOPIC_PATTERN = '^[A-Za-z0-9._-]{1,249}$';
const Topic = Type.String({ pattern: KAFKA_TOPIC_PATTERN, description: 'Kafka topic name' });

/** How a source's record values are read. */
export const KAFKA_SOURCE_FORMATS = ['senml-json', 'senml-cbor', 'json'] as const;
export type KafkaSourceFormat = (typeof KAFKA_SOURCE_FORMATS)[number];

/** Where a source finds the thing a record is from: the record key, or a header. */
export const KAFKA_THING_FROM = ['key', 'header'] as const;
export type KafkaThingFrom = (typeof KAFKA_THING_FROM)[number];

/** Families of EVENTS a sink may stream (the `<type>` of `evt.<tenant>.<type>.<thing>`). */
export const KAFKA_SINK_EVENT_TYPES = ['alert', 'inference', 'command', 'rejected', 'lifecycle'] as const;
export type KafkaSinkEventType = (typeof KAFKA_SINK_EVENT_TYPES)[number];

export const KafkaSourceCreated = defineEvent(
  'kafka.source.created',
  1,
  data({
    sourceId: Id,
    topic: Topic,
    format: Type.Enum(KAFKA_SOURCE_FORMATS),
    thingFrom: Type.Enum(KAFKA_THING_FROM),
    /** The header naming the thing, when `thingFrom` is `header`. */
    header: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    channelId: Id,
  }),
  'A Kafka topic became a source of device messages of the tenant, on one channel.',
);

export const KafkaSourceDeleted = defineEvent(
  'kafka.source.deleted',
  1,
  data({ sourceId: Id }),
  'A Kafka source was removed: its topic is no longer read.',
);

export const KafkaSinkCreated = defineEvent(
  'kafka.sink.created',
  1,
  data(
    {
      sinkId: Id,
      /** Where the tenant's device messages go. */
      messagesTopic: Type.Optional(Topic),
      /** Where the tenant's events go. */
      eventsTopic: Type.Optional(Topic),
      /** The event families streamed to `eventsTopic`; all when absent. */
      eventTypes: Type.Optional(
        Type.Array(Type.Enum(KAFKA_SINK_EVENT_TYPES), { minItems: 1, uniqueItems: true }),
      ),
    },
    { minProperties: 2 },
  ),
  "A Kafka sink began streaming the tenant's messages and/or events to Kafka topics.",
);

export const KafkaSinkDeleted = defineEvent(
  'kafka.sink.deleted',
  1,
  data({ sinkId: Id }),
  'A Kafka sink was removed: nothing more is streamed to its topics.',
);

/** Kafka bridge event schemas by type. */
export const KAFKA_EVENTS = {
  'kafka.source.created': KafkaSourceCreated,
  'kafka.source.deleted': KafkaSourceDeleted,
  'kafka.sink.created': KafkaSinkCreated,
  'kafka.sink.deleted': KafkaSinkDeleted,
} as const;
