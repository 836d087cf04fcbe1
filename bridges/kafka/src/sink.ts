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
  const define = (
    stream: 'messages' | 'events',
    topic: string,
    filter: string,
    wanted: (m: ProcessorMessage) => boolean = () => true,
  ) => {
    const streamName = stream === 'messages' ? STREAMS.MESSAGES.name : STREAMS.EVENTS.name;
    definitions.push(
      defineProcessor({
        name: sinkProcessorName(sink.sinkId, stream),
        stream: streamName,
        // one filter: the consumer is then created by a subject that names it (least privilege)
        filter: [filter],
        ordered: true,
        batch: { maxMessages: 500 },
        async handle(messages) {
          const records = messages.filter(wanted).map((m) => sinkRecord(m, streamName));
          try {
            await client.send(topic, records);
          } catch (err) {
            const message = `Kafka did not take the batch for ${topic}: ${err instanceof Error ? err.message : err}`;
            throw isPermanent(err)
              ? new PermanentError(message, { cause: err })
              : new UnavailableError(message, { cause: err });
          }
          metrics.sent.inc({ sink: sink.sinkId, stream }, records.length);
        },
      }),
    );
  };
  if (sink.messagesTopic)
    define('messages', sink.messagesTopic, messageFilters({ tenant: sink.tenantId })[0]!);
  if (sink.eventsTopic) {
    const families = sink.eventTypes ? new Set<string>(sink.eventTypes) : undefined;
    define('events', sink.eventsTopic, eventFilter({ tenant: sink.tenantId }), (m) => {
      if (!families) return true;
      const subject = parseSubject(m.subject);
      return subject.kind === 'evt' && families.has(subject.type);
    });
  }
  return definitions;
}
