import type { ApplyHandlers } from './types.ts';

type KafkaEventType =
  | 'kafka.source.created'
  | 'kafka.source.deleted'
  | 'kafka.sink.created'
  | 'kafka.sink.deleted';

/** Kafka sources and sinks are read from the log by the Kafka bridge and the API: nothing of them is in these tables. */
const ignored = async () => {};

export const kafkaHandlers: Pick<ApplyHandlers, KafkaEventType> = {
  'kafka.source.created': ignored,
  'kafka.source.deleted': ignored,
  'kafka.sink.created': ignored,
  'kafka.sink.deleted': ignored,
};
