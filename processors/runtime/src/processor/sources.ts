import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../logger.ts';
import { sleep } from '../retry.ts';
import { PRIORITY_GROUP } from './consumer.ts';
import type { ProcessorHealth } from './health.ts';

export interface SourceOptions {
  maxMessages: number;
  /** Unordered: one continuous consume instead of repeated fetches ({@link consumedBatches}). */
  continuous?: boolean;
  /** How long one pull waits for messages, ms. */
  expiresMs: number;
  logger: Logger;
  health: ProcessorHealth;
  /** Ends the source: the batch being consumed is the last one. */
  signal: AbortSignal;
}

/** Where a processor's batches come from; it ends when the processor stops. */
export type MessageSource = AsyncGenerator<JsMsg[], void, undefined>;

/**
 * The processor's source: a pinned pull session when ordered, a continuous one when asked for,
 * repeated fetches otherwise.
 */
export function messageSource(consumer: Consumer, ordered: boolean, options: SourceOptions): MessageSource {
  if (ordered) return consumedBatches(consumer, options, PRIORITY_GROUP);
  return options.continuous ? consumedBatches(consumer, options) : fetchedBatches(consumer, options);
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
 * one: in a priority `group` (pinned consumption must keep its session, it carries the pin id),
 * or, without, for a processor that wants the next messages to arrive while it handles a batch.
 * Messages delivered but not handed out when the source ends are nak'd, to be taken up at once
 * rather than after ack_wait.
 */
export async function* consumedBatches(
  consumer: Consumer,
  options: SourceOptions,
  group?: string,
): MessageSource {
  const { logger, health, signal } = options;
  // by stream sequence, in arrival order: a message that waited here past ack_wait (a batch held
  // while a dependency is down) comes again, and its new delivery replaces the old one
  const buffer = new Map<number, JsMsg>();
  let wake: (() => void) | undefined;
  const messages = await consumer.consume({
    max_messages: options.maxMessages,
    expires: options.expiresMs,
    ...(group ? { group } : {}),
    callback: (m) => {
      buffer.set(m.seq, m);
      wake?.();
    },
  });
  (async () => {
    for await (const status of messages.status()) {
      health.fetched();
      if (status.type === 'consumer_pinned') logger.info('pinned: this instance is the active one');
    }
  })().catch((err: unknown) => health.failed(err));
  const stopped = () => wake?.();
  signal.addEventListener('abort', stopped);
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
      health.fetched();
      // at most a batch at a time; the consumer's max_ack_pending bounds what waits behind it
      const batch: JsMsg[] = [];
      for (const [seq, m] of buffer) {
        if (batch.length === options.maxMessages) break;
        batch.push(m);
        buffer.delete(seq);
      }
      yield batch;
    }
  } finally {
    signal.removeEventListener('abort', stopped);
    await messages.close();
    for (const m of buffer.values()) m.nak();
    buffer.clear();
  }
}
