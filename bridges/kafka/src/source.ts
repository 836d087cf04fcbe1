import { type Ingest, IngestError, isIngestError, type RateLimiter } from '@telly/bridge-core';
import { type Logger, sleep } from '@telly/runtime';
import type { RejectionReason } from '@telly/schemas';
import type { KafkaSource } from './catalog.ts';
import type { InBatch, InConsumer, InRecord, KafkaClient, OutRecord } from './client.ts';
import type { KafkaMetrics } from './metrics.ts';
import type { ThingIndex } from './thing-index.ts';

/** The header a source reads the thing id from when `thingFrom` is `header`. @default 'telly-thing' */
export const DEFAULT_THING_HEADER = 'telly-thing';

const CONTENT_TYPES = {
  'senml-json': 'application/senml+json',
  'senml-cbor': 'application/senml+cbor',
  json: 'application/json',
} as const satisfies Record<KafkaSource['format'], string>;

/** Headers a refused record carries to the rejections topic, besides its own. */
export const REJECTION_HEADERS = {
  SOURCE: 'telly-source',
  TENANT: 'telly-tenant',
  REASON: 'telly-reason',
  DETAIL: 'telly-detail',
  TOPIC: 'telly-topic',
  PARTITION: 'telly-partition',
  OFFSET: 'telly-offset',
} as const;

/** The Kafka consumer group of a source: one per source, so each keeps its own offsets. */
export const sourceGroupId = (sourceId: string): string => `telly-source-${sourceId}`;

/**
 * The id of the message a record becomes: its place in Kafka. A record read again (after a crash,
 * before its offset was committed) is the same message, which JetStream stores once.
 */
export const recordMessageId = (r: Pick<InRecord, 'topic' | 'partition' | 'offset'>): string =>
  `kafka:${r.topic}:${r.partition}:${r.offset}`;

type Outcome =
  | { kind: 'stored' }
  | { kind: 'refused'; reason: RejectionReason; detail: string }
  | { kind: 'retry'; afterMs: number };

export interface SourceDeps {
  client: KafkaClient;
  /** The gateway's Ingest, built without a rate limit: the source applies {@link limiter} by waiting. */
  ingest: Ingest;
  /** Each thing's limit; a thing over it slows its records down instead of losing them. */
  limiter: RateLimiter;
  things: ThingIndex;
  rejectionsTopic: string;
  metrics: KafkaMetrics;
  logger: Logger;
}

export interface RunningSource {
  source: KafkaSource;
  /** Finishes the batch in hand (committed or not), then leaves the group. */
  stop(): Promise<void>;
}

/**
 * Reads one source's topic into MESSAGES. Each record takes the one ingest path (thing of the
 * source's tenant, enabled, connected to the channel; size, format, times), with its message id
 * from topic/partition/offset; the partition's offset is committed only once every record before
 * it is in the log (JetStream acked) or refused (written to the rejections topic). A JetStream
 * outage holds the batch and retries it, so nothing is skipped and nothing is stored twice.
 */
export async function runSource(source: KafkaSource, deps: SourceDeps): Promise<RunningSource> {
  const logger = deps.logger.child({ source: source.sourceId, topic: source.topic });
  const handler = new SourceBatches(source, deps, logger);
  const consumer: InConsumer = await deps.client.consume(
    sourceGroupId(source.sourceId),
    source.topic,
    (batch) => handler.handle(batch),
  );
  logger.info({ tenantId: source.tenantId, channelId: source.channelId }, 'Kafka source reading');
  return {
    source,
    async stop() {
      await consumer.stop();
      logger.info('Kafka source stopped');
    },
  };
}

class SourceBatches {
  readonly #s: KafkaSource;
  readonly #d: SourceDeps;
  readonly #logger: Logger;
  readonly #labels: { source: string };

  constructor(source: KafkaSource, deps: SourceDeps, logger: Logger) {
    this.#s = source;
    this.#d = deps;
    this.#logger = logger;
    this.#labels = { source: source.sourceId };
  }

  async handle(batch: InBatch): Promise<void> {
    const { records } = batch;
    let from = 0;
    let attempt = 0;
    while (from < records.length && batch.active()) {
      const pending = records.slice(from);
      const outcomes = await this.#takeAll(pending, batch);
      const firstRetry = outcomes.findIndex((o) => o.kind === 'retry');
      const settled = firstRetry === -1 ? pending.length : firstRetry;
      if (settled > 0) {
        const refused: OutRecord[] = [];
        for (let i = 0; i < settled; i++) {
          const outcome = outcomes[i]!;
          if (outcome.kind === 'refused')
            refused.push(this.#rejection(pending[i]!, outcome.reason, outcome.detail));
          this.#d.metrics.records.inc({ ...this.#labels, outcome: outcome.kind });
        }
        // refused records are kept (rejections topic) before their offset is given up
        await this.#d.client.send(this.#d.rejectionsTopic, refused);
        await batch.commit((BigInt(pending[settled - 1]!.offset) + 1n).toString());
        from += settled;
        attempt = 0;
      }
      const retry = outcomes[firstRetry];
      if (retry?.kind === 'retry') {
        attempt++;
        this.#d.metrics.records.inc({ ...this.#labels, outcome: 'retried' }, pending.length - settled);
        if (attempt === 1 || attempt % 20 === 0) {
          this.#logger.warn(
            { offset: pending[settled]?.offset, attempt },
            'the log is not taking records; holding the batch',
          );
        }
        await sleep(retry.afterMs);
        await batch.heartbeat().catch(() => {});
      }
    }
  }

  /** Every record's outcome; a thing's records are taken one after the other, in offset order. */
  #takeAll(records: InRecord[], batch: InBatch): Promise<Outcome[]> {
    const chains = new Map<string, Promise<Outcome>>();
    return Promise.all(
      records.map((record) => {
        const thingId = this.#thingIdOf(record);
        const previous = chains.get(thingId ?? '') ?? Promise.resolve<Outcome>({ kind: 'stored' });
        const next = previous.then((before) =>
          // after a record of this thing that must wait, the later ones wait too (order per thing)
          before.kind === 'retry' ? before : this.#take(record, thingId, batch),
        );
        chains.set(thingId ?? '', next);
        return next;
      }),
    );
  }

  #thingIdOf(record: InRecord): string | undefined {
    const raw =
      this.#s.thingFrom === 'key'
        ? record.key?.toString('utf8')
        : record.headers[this.#s.header ?? DEFAULT_THING_HEADER];
    return raw?.trim() || undefined;
  }

  async #take(record: InRecord, thingId: string | undefined, batch: InBatch): Promise<Outcome> {
    const { ingest, things, limiter } = this.#d;
    const where =
      this.#s.thingFrom === 'key' ? 'the record key' : `header ${this.#s.header ?? DEFAULT_THING_HEADER}`;
    if (thingId === undefined) return this.#unknown(`no thing id in ${where}`);
    const entry = things.get(thingId);
    // a thing of another tenant is refused exactly like one that does not exist
    if (!entry || entry.credential.tenantId !== this.#s.tenantId) {
      return this.#unknown(
        `${where} names ${JSON.stringify(thingId.slice(0, 128))}: not a thing of this tenant`,
      );
    }
    const { credential } = entry;
    if (!credential.enabled) {
      const error = ingest.reject(
        credential,
        this.#s.channelId,
        new IngestError('thing-disabled', 'the thing is disabled'),
      );
      return { kind: 'refused', reason: error.reason, detail: error.message };
    }
    const own = credential.rateLimit;
    for (;;) {
      const wait = own
        ? limiter.take(thingId, Date.now(), { ratePerSecond: own.perSecond, burst: own.burst })
        : limiter.take(thingId);
      if (wait === 0) break;
      if (!batch.active()) return { kind: 'retry', afterMs: 0 };
      await sleep(Math.min(wait * 1000, 1_000));
    }
    try {
      await ingest.publish({
        thing: credential,
        keyHash: entry.keyHash,
        channelId: this.#s.channelId,
        subtopic: [],
        contentType: CONTENT_TYPES[this.#s.format],
        body: record.value ?? new Uint8Array(),
        messageId: recordMessageId(record),
      });
      return { kind: 'stored' };
    } catch (err) {
      if (isIngestError(err, 'unavailable')) return { kind: 'retry', afterMs: (err.retryAfter ?? 1) * 1000 };
      if (isIngestError(err)) return { kind: 'refused', reason: err.reason, detail: err.message };
      // the credentials bucket or NATS did not answer: try again, refuse nothing
      this.#logger.warn({ err }, 'a record could not be taken; retrying');
      return { kind: 'retry', afterMs: 1_000 };
    }
  }

  /** A record of no thing of this tenant: counted and kept in the rejections topic, no event. */
  #unknown(detail: string): Outcome {
    this.#d.metrics.unknownThings.inc(this.#labels);
    return { kind: 'refused', reason: 'unauthenticated', detail };
  }

  #rejection(record: InRecord, reason: RejectionReason, detail: string): OutRecord {
    return {
      key: record.key?.toString('utf8') ?? '',
      value: record.value ?? '',
      headers: {
        ...record.headers,
        [REJECTION_HEADERS.SOURCE]: this.#s.sourceId,
        [REJECTION_HEADERS.TENANT]: this.#s.tenantId,
        [REJECTION_HEADERS.REASON]: reason,
        [REJECTION_HEADERS.DETAIL]: detail.slice(0, 1024),
        [REJECTION_HEADERS.TOPIC]: record.topic,
        [REJECTION_HEADERS.PARTITION]: String(record.partition),
        [REJECTION_HEADERS.OFFSET]: record.offset,
      },
    };
  }
}
