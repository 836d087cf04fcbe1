import {
  defineProcessor,
  PermanentError,
  type ProcessorDefinition,
  type ProcessorMessage,
  UnavailableError,
} from '@telly/runtime';
import { eventFilter, messageFilters, parseSubject, STREAMS } from '@telly/schemas';
import type { KafkaSink } from './catalog.ts';
import type { KafkaClient, OutRecord } from './client.ts';
import type { KafkaMetrics } from './metrics.ts';

/** The key of an event about no known thing (its subject's thing token). */
const NO_THING = '_';

/** Headers every record a sink writes carries, besides the entry's own (`Content-Type`, `Telly-*`). */
export const SINK_HEADERS = {
  STREAM: 'Telly-Stream',
  SEQ: 'Telly-Seq',
  SUBJECT: 'Telly-Subject',
  TENANT: 'Telly-Tenant',
  THING: 'Telly-Thing',
  CHANNEL: 'Telly-Channel',
  SUBTOPIC: 'Telly-Subtopic',
} as const;

/** The durable consumer of one of a sink's streams. */
export const sinkProcessorName = (sinkId: string, stream: 'messages' | 'events'): string =>
  `kafka-sink-${sinkId}-${stream}`;

/** A log entry as a Kafka record: keyed by its thing (one partition, so in order per thing). */
export function sinkRecord(m: ProcessorMessage, stream: string): OutRecord {
  const headers: Record<string, string> = {};
  for (const name of m.headers?.keys() ?? []) {
    if (name.startsWith('Nats-')) continue;
    headers[name] = m.headers?.get(name) ?? '';
  }
  headers[SINK_HEADERS.STREAM] = stream;
  headers[SINK_HEADERS.SEQ] = String(m.seq);
  headers[SINK_HEADERS.SUBJECT] = m.subject;
  const subject = parseSubject(m.subject);
  let key: string = NO_THING;
  if (subject.kind === 'msg') {
    key = subject.thing;
    headers[SINK_HEADERS.TENANT] = subject.tenant;
    headers[SINK_HEADERS.CHANNEL] = subject.channel;
    if (subject.subtopic.length > 0) headers[SINK_HEADERS.SUBTOPIC] = subject.subtopic.join('/');
  } else if (subject.kind === 'evt') {
    key = subject.thing ?? NO_THING;
    headers[SINK_HEADERS.TENANT] = subject.tenant;
  }
  headers[SINK_HEADERS.THING] = key;
  return { key, value: m.data, headers };
}

/** kafkajs marks errors a retry cannot fix (`retriable: false`: a record too large, a bad topic). */
function isPermanent(err: unknown): boolean {
  const e = err as { retriable?: unknown; name?: unknown; cause?: unknown } | undefined;
  if (e?.name === 'KafkaJSNumberOfRetriesExceeded') return isPermanent(e.cause);
  return e?.retriable === false && e.name === 'KafkaJSProtocolError';
}

/**
 * The processors of a sink: the tenant's MESSAGES to `messagesTopic` and its EVENTS (all, or the
 * families named) to `eventsTopic`. Ordered (one active instance, strict log order), and a batch
 * is acked only after Kafka acknowledged every record of it: Kafka down holds the batch
 * (UnavailableError, retried in place), so an outage delays and loses nothing.
 */
export function sinkProcessors(
  sink: KafkaSink,
  client: KafkaClient,
  metrics: KafkaMetrics,
): ProcessorDefinition[] {
  const definitions: ProcessorDefinition[] = [];
  const define = (stream: 'messages' | 'events', topic: string, filter: string[]) => {
    const streamName = stream === 'messages' ? STREAMS.MESSAGES.name : STREAMS.EVENTS.name;
    definitions.push(
      defineProcessor({
        name: sinkProcessorName(sink.sinkId, stream),
        stream: streamName,
        filter,
        ordered: true,
        batch: { maxMessages: 500 },
        async handle(messages) {
          try {
            await client.send(
              topic,
              messages.map((m) => sinkRecord(m, streamName)),
            );
          } catch (err) {
            const message = `Kafka did not take the batch for ${topic}: ${err instanceof Error ? err.message : err}`;
            throw isPermanent(err)
              ? new PermanentError(message, { cause: err })
              : new UnavailableError(message, { cause: err });
          }
          metrics.sent.inc({ sink: sink.sinkId, stream }, messages.length);
        },
      }),
    );
  };
  if (sink.messagesTopic)
    define('messages', sink.messagesTopic, [...messageFilters({ tenant: sink.tenantId })]);
  if (sink.eventsTopic) {
    const filter = sink.eventTypes
      ? sink.eventTypes.map((type) => eventFilter({ tenant: sink.tenantId, type }))
      : [eventFilter({ tenant: sink.tenantId })];
    define('events', sink.eventsTopic, filter);
  }
  return definitions;
}
