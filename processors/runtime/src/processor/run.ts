import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import type { HealthChecks } from '../health.ts';
import type { Logger } from '../logger.ts';
import { sleep } from '../retry.ts';
import { BatchHandler } from './batch.ts';
import { ackWaitMsOf, ensureConsumer } from './consumer.ts';
import { DeadLetterQueue, deadLetterCheck, withoutOthersRedrives } from './dead-letter-queue.ts';
import { DEFAULT_PROCESSOR } from './define.ts';
import { ProcessorHealth } from './health.ts';
import { processorMetrics } from './metrics.ts';
import { messageSource } from './sources.ts';
import type { ProcessorDefinition } from './types.ts';

const LAG_REFRESH_MS = 5_000;

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

/**
 * Runs a processor on a durable pull consumer: batches from its {@link messageSource} go to
 * the {@link BatchHandler}, which acks them only after `handle` returned, and retries or
 * dead-letters (`dlq.<name>`) what failed by the processor's retry policy.
 */
export async function runProcessor(
  def: ProcessorDefinition,
  options: RunProcessorOptions,
): Promise<RunningProcessor> {
  const logger = options.logger.child({ processor: def.name });
  const consumer = await ensureConsumer(options.nc, def);
  const metrics = processorMetrics(options.metrics);
  const expiresMs = Math.max(1_000, def.batch?.expiresMs ?? DEFAULT_PROCESSOR.expiresMs); // JetStream's minimum
  const health = new ProcessorHealth(expiresMs);
  options.health?.add(`processor:${def.name}`, () => health.check());
  const dlqDepth = (depth: number) => metrics.deadLetters.set({ processor: def.name }, depth);
  const dlqCheck = deadLetterCheck(new DeadLetterQueue(options.nc), def.name, dlqDepth);
  options.health?.add(`dlq:${def.name}`, dlqCheck);
  const stopping = new AbortController();
  const signal = stopping.signal;
  const handler = new BatchHandler(def, { js: jetstream(options.nc), logger, metrics, health, signal });

  const refreshLag = async () => {
    const info = await consumer.info(false);
    metrics.pending.set({ processor: def.name }, info.num_pending + info.num_ack_pending);
    await def.onAckFloor?.(info.ack_floor.stream_seq);
    await dlqCheck();
  };
  const lagTimer = setInterval(() => {
    refreshLag().catch((err: unknown) => logger.debug({ err }, 'lag refresh failed'));
  }, LAG_REFRESH_MS);

  const loop = (async () => {
    const sourceOptions = {
      maxMessages: def.batch?.maxMessages ?? DEFAULT_PROCESSOR.maxMessages,
      continuous: def.batch?.continuous ?? false,
      lingerMs: def.batch?.lingerMs ?? 0,
      expiresMs,
      ackWaitMs: ackWaitMsOf(def),
      logger,
      health,
      signal,
    };
    while (!signal.aborted) {
      try {
        for await (const batch of messageSource(consumer, def.ordered ?? false, sourceOptions)) {
          // a message redriven for another processor was applied here already, with its original
          const mine = withoutOthersRedrives(batch, def.name);
          if (mine.length > 0) await handler.handle(mine);
        }
      } catch (err) {
        health.failed(err);
        logger.error({ err }, 'processor loop failed; restarting it');
        await sleep(1_000, signal);
      }
    }
  })();

  logger.info({ stream: def.stream, filter: def.filter, ordered: def.ordered ?? false }, 'processor running');
  return {
    async stop() {
      stopping.abort();
      clearInterval(lagTimer);
      await loop;
      await refreshLag().catch(() => {});
      logger.info('processor stopped');
    },
  };
}
