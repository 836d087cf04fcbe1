import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../logger.ts';
import { sleep } from '../retry.ts';
import { PRIORITY_GROUP } from './consumer.ts';
import type { ProcessorHealth } from './health.ts';

export interface SourceOptions {
  maxMessages: number;
  /** How long one pull waits for messages, ms. */
  expiresMs: number;
  logger: Logger;
  health: ProcessorHealth;
  /** Ends the source: the batch being consumed is the last one. */
  signal: AbortSignal;
}

/** Where a processor's batches come from; it ends when the processor stops. */
export type MessageSource = AsyncGenerator<JsMsg[], void, undefined>;

/** The processor's source: a pinned pull session when ordered, repeated fetches otherwise. */
export function messageSource(consumer: Consumer, ordered: boolean, options: SourceOptions): MessageSource {
  return ordered ? pinnedBatches(consumer, options) : fetchedBatches(consumer, options);
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
 * Batches of one continuous pull session in the priority group: pinned consumption must keep
 * its session (it carries the pin id), so what has arrived since the last batch is the next
 * one. Messages delivered but not handed out when the source ends are nak'd, to be taken up at
 * once rather than after ack_wait.
 */
export async function* pinnedBatches(consumer: Consumer, options: SourceOptions): MessageSource {
  const { logger, health, signal } = options;
  const buffer: JsMsg[] = [];
  let wake: (() => void) | undefined;
  const messages = await consumer.consume({
    max_messages: options.maxMessages,
    expires: options.expiresMs,
    group: PRIORITY_GROUP,
    callback: (m) => {
      buffer.push(m);
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
      if (buffer.length === 0) {
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
      yield buffer.splice(0, buffer.length);
    }
  } finally {
    signal.removeEventListener('abort', stopped);
    await messages.close();
    for (const m of buffer.splice(0)) m.nak();
  }
}
