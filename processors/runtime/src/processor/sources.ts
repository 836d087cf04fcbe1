import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../logger.ts';
import { sleep } from '../retry.ts';
import { PRIORITY_GROUP } from './consumer.ts';
import type { ProcessorHealth } from './health.ts';

export interface SourceOptions {
  maxMessages: number;
  /** Unordered: one continuous pull session instead of repeated fetches ({@link consumedBatches}). */
  continuous: boolean;
  /** Consumed sources: how long a batch waits for more after its first message arrived. */
  lingerMs: number;
  /** How long one pull waits for messages, ms. */
  expiresMs: number;
  /** The consumer's ack wait, ms: what waits in a source's buffer is kept from redelivery. */
  ackWaitMs: number;
  logger: Logger;
  health: ProcessorHealth;
  /** Ends the source: the batch being consumed is the last one. */
  signal: AbortSignal;
}

/** Where a processor's batches come from; it ends when the processor stops. */
export type MessageSource = AsyncGenerator<JsMsg[], void, undefined>;

/**
 * The processor's source: a pinned pull session when ordered, a shared continuous one when
 * asked for, repeated fetches otherwise.
 */
export function messageSource(consumer: Consumer, ordered: boolean, options: SourceOptions): MessageSource {
  if (ordered) return consumedBatches(consumer, options, true);
  return options.continuous ? consumedBatches(consumer, options, false) : fetchedBatches(consumer, options);
}

/**
 * Batches of repeated fetches, each one waiting up to `expiresMs` for `maxMessages`: instances
 * sharing the consumer split the work between them. A failed fetch is tried again.
 */
export async function* fetchedBatches(consumer: Consumer, options: SourceOptions): MessageSource {
  const { logger, health, signal } = options;
  while (!signal.aborted) {
    const batch: JsMsg[] = [];
    try {
      const fetched = await consumer.fetch({ max_messages: options.maxMessages, expires: options.expiresMs });
      for await (const m of fetched) batch.push(m);
      health.fetched();
    } catch (err) {
      health.failed(err);
      if (signal.aborted) return;
      logger.warn({ err }, 'fetch failed; retrying');
      await sleep(500, signal);
      continue;
    }
    if (batch.length > 0) yield batch;
  }
}

/**
 * Batches of one continuous pull session, what has arrived since the last batch being the next
 * one, after at most `lingerMs` for more: no wait for a fetch to fill. `pinned`: in the
 * processor's priority group (pinned consumption must keep its session, it carries the pin id);
 * otherwise instances share the consumer. Messages delivered but not handed out when the source
 * ends are nak'd, to be taken up at once rather than after ack_wait.
 */
export async function* consumedBatches(
  consumer: Consumer,
  options: SourceOptions,
  pinned: boolean,
): MessageSource {
  const { logger, health, signal } = options;
  // by stream sequence: a message that waited here past ack_wait comes again, and its new
  // delivery replaces the old one
  const buffer = new Map<number, JsMsg>();
  let wake: (() => void) | undefined;
  // when the first message of the next batch arrived
  let firstAt = 0;
  const messages = await consumer.consume({
    max_messages: options.maxMessages,
    expires: options.expiresMs,
    ...(pinned ? { group: PRIORITY_GROUP } : {}),
    callback: (m) => {
      if (buffer.size === 0) firstAt = performance.now();
      buffer.set(m.seq, m);
      wake?.();
    },
  });
  // pinned: whether every message the consumer has out (delivered, unacked) is known to be here
  let holdsAll = false;
  (async () => {
    for await (const status of messages.status()) {
      health.fetched();
      if (status.type === 'consumer_pinned') {
        logger.info('pinned: this instance is the active one');
        holdsAll = false;
      }
    }
  })().catch((err: unknown) => health.failed(err));
  /**
   * A pinned instance that takes over gets again what the one before it held (see `ackWaitMsOf`),
   * in no particular order and maybe in several deliveries, and perhaps newer messages too.
   * Nothing is handed out until every message the consumer has out is here, so each batch is
   * the lowest sequences, in order. Looked at when pinned and whenever a delivery is a repeat.
   */
  const untilAllHere = async () => {
    const deadline = Date.now() + 4 * options.ackWaitMs;
    while (!signal.aborted && Date.now() < deadline) {
      const info = await consumer.info(false);
      if (info.num_ack_pending <= buffer.size) return;
      await sleep(50, signal);
    }
  };
  const stopped = () => wake?.();
  signal.addEventListener('abort', stopped);
  // what waits behind a batch being handled (or held while a dependency is down) is this
  // instance's: not redelivered meanwhile, so its delivery count stays what it was
  const keepAlive = setInterval(
    () => {
      for (const m of buffer.values()) m.working();
    },
    Math.max(500, options.ackWaitMs / 3),
  );
  try {
    while (!signal.aborted) {
      if (buffer.size === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.expiresMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        continue;
      }
      const lingered = performance.now() - firstAt;
      if (buffer.size < options.maxMessages && lingered < options.lingerMs) {
        await sleep(options.lingerMs - lingered, signal);
        continue;
      }
      health.fetched();
      if (pinned && (!holdsAll || [...buffer.values()].some((m) => m.redelivered))) {
        await untilAllHere();
        holdsAll = true;
      }
      // at most a batch at a time, the lowest sequences; the consumer's max_ack_pending bounds
      // what waits behind it
      const seqs = [...buffer.keys()].sort((a, b) => a - b).slice(0, options.maxMessages);
      const batch = seqs.map((seq) => buffer.get(seq)!);
      for (const seq of seqs) buffer.delete(seq);
      yield batch;
    }
  } finally {
    clearInterval(keepAlive);
    signal.removeEventListener('abort', stopped);
    await messages.close();
    for (const m of buffer.values()) m.nak();
    buffer.clear();
  }
}
