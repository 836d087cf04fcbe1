import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { dlqSubject } from '@telly/schemas';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { HealthChecks } from '../health.ts';
import type { Logger } from '../logger.ts';
import { DEFAULT_PROCESSOR, retryDelayMs } from './define.ts';
import { DLQ_HEADERS, isPermanentError, isUnavailableError } from './errors.ts';
import type { ProcessorDefinition, ProcessorMessage } from './types.ts';

const NS_PER_MS = 1_000_000;
const PRIORITY_GROUP = 'telly';
const LAG_REFRESH_MS = 5_000;
/** A batch held back by an unavailable dependency is tried again at least this often. */
const UNAVAILABLE_RETRY_MAX_MS = 5_000;

export interface RunProcessorOptions {
  nc: NatsConnection;
  logger: Logger;
  metrics?: Registry;
  health?: HealthChecks;
}

export interface RunningProcessor {
  /** Finishes the batch in hand (acked or nak'd, never dropped), then stops fetching. */
  stop(): Promise<void>;
}

function consumerConfig(def: ProcessorDefinition): Partial<ConsumerConfig> {
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

function toMessage(m: JsMsg): ProcessorMessage {
  return {
    subject: m.subject,
    seq: m.seq,
    data: m.data,
    headers: m.headers,
    deliveryCount: m.info.deliveryCount,
    timestampMs: Math.floor(m.info.timestampNanos / NS_PER_MS),
  };
}

function metricsFor(registry: Registry | undefined) {
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
  };
}

/**
 * Runs a processor on a durable pull consumer: fetch a batch, hand it to `handle`, ack only after
 * it returned. A failed batch is retried message by message so one poison message cannot hold
 * the rest back: it is nak'd with backoff and, after `maxDeliver` deliveries (or at once for a
 * PermanentError), published to `dlq.<name>` with its reason and terminated.
 */
export async function runProcessor(
  def: ProcessorDefinition,
  options: RunProcessorOptions,
): Promise<RunningProcessor> {
  const { nc } = options;
  const logger = options.logger.child({ processor: def.name });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const config = consumerConfig(def);
  const existing = await jsm.consumers.info(def.stream, def.name).catch(() => undefined);
  if (existing) await jsm.consumers.update(def.stream, def.name, config);
  else await jsm.consumers.add(def.stream, config);
  const consumer: Consumer = await js.consumers.get(def.stream, def.name);
  const metrics = metricsFor(options.metrics);
  const maxDeliver = def.maxDeliver ?? DEFAULT_PROCESSOR.maxDeliver;
  const maxMessages = def.batch?.maxMessages ?? DEFAULT_PROCESSOR.maxMessages;
  const expiresMs = Math.max(1_000, def.batch?.expiresMs ?? DEFAULT_PROCESSOR.expiresMs); // JetStream's minimum
  const ctx = { processor: def.name, logger };

  let stopping = false;
  let lastFetchOk = Date.now();
  let lastError: string | undefined;
  options.health?.add(`processor:${def.name}`, () =>
    Date.now() - lastFetchOk < Math.max(10_000, expiresMs * 5)
      ? { status: 'up', detail: { lastFetchAgoMs: Date.now() - lastFetchOk } }
      : { status: 'down', detail: lastError ?? 'no successful fetch recently' },
  );

  const deadLetter = async (m: JsMsg, reason: string, deliveries = m.info.deliveryCount) => {
    const h = natsHeaders();
    for (const [key, values] of m.headers ?? []) for (const value of values) h.append(key, value);
    h.set(DLQ_HEADERS.reason, reason.slice(0, 1_000));
    h.set(DLQ_HEADERS.stream, def.stream);
    h.set(DLQ_HEADERS.subject, m.subject);
    h.set(DLQ_HEADERS.sequence, String(m.seq));
    h.set(DLQ_HEADERS.deliveries, String(deliveries));
    await js.publish(dlqSubject(def.name), m.data, { headers: h, msgID: `${def.name}:${m.seq}` });
    m.term(reason.slice(0, 200));
    metrics.handled.inc({ processor: def.name, outcome: 'dlq' });
    logger.warn({ seq: m.seq, subject: m.subject, reason }, 'message moved to the DLQ');
  };

  const fail = async (m: JsMsg, err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    if (isPermanentError(err) || m.info.deliveryCount >= maxDeliver) {
      await deadLetter(m, reason);
    } else {
      m.nak(retryDelayMs(m.info.deliveryCount));
      metrics.handled.inc({ processor: def.name, outcome: 'retried' });
      logger.warn({ seq: m.seq, deliveries: m.info.deliveryCount, err }, 'message failed; will be retried');
    }
  };

  /**
   * Acks what the handler committed: plain acks, then one confirmed ack for the last message.
   * The server handles a connection's messages in order, so its reply vouches for the acks
   * before it, in one round trip instead of one per message. A failed or lost ack does not undo
   * the work and must not re-run the handler here: JetStream redelivers after ack_wait, and
   * PgCheckpoint makes that a no-op.
   */
  const ack = async (messages: JsMsg[]) => {
    try {
      for (const m of messages.slice(0, -1)) m.ack();
      await messages.at(-1)?.ackAck();
      metrics.handled.inc({ processor: def.name, outcome: 'acked' }, messages.length);
    } catch (err) {
      logger.warn({ err, seqs: messages.map((m) => m.seq) }, 'ack failed; JetStream will redeliver');
    }
  };

  /**
   * Ordered processors retry a failing message where it stands (a nak would let JetStream deliver
   * later messages first), up to maxDeliver attempts, then dead-letter it and move on.
   */
  const handleInPlace = async (m: JsMsg) => {
    for (let attempt = m.info.deliveryCount; ; attempt++) {
      try {
        await def.handle([toMessage(m)], ctx);
      } catch (err) {
        if (isPermanentError(err) || attempt >= maxDeliver || stopping) {
          if (stopping && !isPermanentError(err) && attempt < maxDeliver) m.nak();
          else await deadLetter(m, err instanceof Error ? err.message : String(err), attempt);
          return;
        }
        metrics.handled.inc({ processor: def.name, outcome: 'retried' });
        logger.warn({ seq: m.seq, attempt, err }, 'message failed; retrying in place (ordered)');
        m.working();
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
        continue;
      }
      await ack([m]);
      return;
    }
  };

  /** Handles one message of a failed batch on its own: acked, or nak'd / dead-lettered. */
  const handleAlone = async (m: JsMsg) => {
    if (def.ordered) return handleInPlace(m);
    try {
      await def.handle([toMessage(m)], ctx);
    } catch (err) {
      return fail(m, err);
    }
    await ack([m]);
  };

  const handleBatch = async (batch: JsMsg[]) => {
    const end = metrics.batchSeconds.startTimer({ processor: def.name });
    // keep long batches from being redelivered elsewhere while they are being handled
    const keepAlive = setInterval(
      () => {
        for (const m of batch) m.working();
      },
      Math.max(1_000, (def.ackWaitMs ?? DEFAULT_PROCESSOR.ackWaitMs) / 3),
    );
    try {
      let batchErr: unknown;
      for (let attempt = 1; ; attempt++) {
        try {
          await def.handle(batch.map(toMessage), ctx);
          batchErr = undefined;
        } catch (err) {
          batchErr = err;
        }
        if (!isUnavailableError(batchErr)) break;
        if (stopping) {
          // hand the batch back without spending a delivery on the outage
          for (const m of batch) m.nak();
          return;
        }
        lastError = `unavailable: ${(batchErr as Error).message}`;
        metrics.handled.inc({ processor: def.name, outcome: 'retried' }, batch.length);
        logger.warn(
          { err: batchErr, attempt, seqs: [batch[0]?.seq, batch.at(-1)?.seq] },
          'a dependency is unavailable; retrying the batch in place',
        );
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(UNAVAILABLE_RETRY_MAX_MS, retryDelayMs(attempt))),
        );
      }
      if (batchErr === undefined) await ack(batch);
      else if (batch.length === 1 && !def.ordered) await fail(batch[0]!, batchErr);
      // find the culprit(s): one by one, in stream order
      else for (const m of batch) await handleAlone(m);
    } finally {
      clearInterval(keepAlive);
      end();
    }
  };

  const refreshLag = async () => {
    const info = await consumer.info(false);
    metrics.pending.set({ processor: def.name }, info.num_pending + info.num_ack_pending);
    await def.onAckFloor?.(info.ack_floor.stream_seq);
  };
  const lagTimer = setInterval(() => {
    refreshLag().catch((err: unknown) => logger.debug({ err }, 'lag refresh failed'));
  }, LAG_REFRESH_MS);

  const fetchLoop = async () => {
    while (!stopping) {
      try {
        const fetched = await consumer.fetch({ max_messages: maxMessages, expires: expiresMs });
        const batch: JsMsg[] = [];
        for await (const m of fetched) batch.push(m);
        lastFetchOk = Date.now();
        if (batch.length > 0) await handleBatch(batch);
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        if (stopping) break;
        logger.warn({ err }, 'fetch failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  // Pinned consumption must keep one pull session (it carries the pin id), so ordered processors
  // consume continuously and hand over whatever has arrived as the next batch.
  const pinnedLoop = async () => {
    const buffer: JsMsg[] = [];
    let wake: (() => void) | undefined;
    const messages = await consumer.consume({
      max_messages: maxMessages,
      expires: expiresMs,
      group: PRIORITY_GROUP,
      callback: (m) => {
        buffer.push(m);
        wake?.();
      },
    });
    (async () => {
      for await (const status of messages.status()) {
        lastFetchOk = Date.now();
        if (status.type === 'consumer_pinned') logger.info('pinned: this instance is the active one');
      }
    })().catch(() => {});
    while (!stopping) {
      if (buffer.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, expiresMs);
        });
        wake = undefined;
        continue;
      }
      lastFetchOk = Date.now();
      await handleBatch(buffer.splice(0, buffer.length));
    }
    await messages.close();
    // delivered but not handled: hand them back at once rather than after ack_wait
    for (const m of buffer.splice(0)) m.nak();
  };

  const loop = (async () => {
    while (!stopping) {
      try {
        await (def.ordered ? pinnedLoop() : fetchLoop());
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        logger.error({ err }, 'processor loop failed; restarting it');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  })();

  logger.info({ stream: def.stream, filter: def.filter, ordered: def.ordered ?? false }, 'processor running');
  return {
    async stop() {
      stopping = true;
      clearInterval(lagTimer);
      await loop;
      await refreshLag().catch(() => {});
      logger.info('processor stopped');
    },
  };
}
