import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ProcessorMetrics = ReturnType<typeof processorMetrics>;

/** The processor metrics of a registry, shared by every processor it serves. */
export function processorMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  const get = <T>(name: string, make: () => T): T =>
    (registry?.getSingleMetric(name) as T | undefined) ?? make();
  return {
    handled: get(
      'telly_processor_messages_total',
      () =>
        new Counter({
          name: 'telly_processor_messages_total',
          help: 'Messages a processor finished with, by outcome (acked, retried, dlq)',
          labelNames: ['processor', 'outcome'],
          registers,
        }),
    ),
    batchSeconds: get(
      'telly_processor_batch_seconds',
      () =>
        new Histogram({
          name: 'telly_processor_batch_seconds',
          help: 'Time to handle and ack one batch',
          labelNames: ['processor'],
          buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
          registers,
        }),
    ),
    pending: get(
      'telly_processor_pending_messages',
      () =>
        new Gauge({
          name: 'telly_processor_pending_messages',
          help: 'Consumer lag: messages not yet delivered plus delivered but unacked',
          labelNames: ['processor'],
          registers,
        }),
    ),
    deadLetters: get(
      'telly_processor_dlq_messages',
      () =>
        new Gauge({
          name: 'telly_processor_dlq_messages',
          help: 'Entries in the dead-letter queue (dlq.<processor>): messages the processor gave up on',
          labelNames: ['processor'],
          // every instance of a processor reports the same queue: not a sum
          aggregator: 'max',
          registers,
        }),
    ),
  };
}
