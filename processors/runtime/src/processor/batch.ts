import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../logger.ts';
import { retryInPlace } from '../retry.ts';
import { ackWaitMsOf } from './consumer.ts';
import { deadLetter } from './dead-letter.ts';
import type { ProcessorHealth } from './health.ts';
import { logEntryOf } from './message.ts';
import type { ProcessorMetrics } from './metrics.ts';
import { RetryPolicy } from './retry-policy.ts';
import type { HandleOutcome, HandleResult, HandlerContext, ProcessorDefinition } from './types.ts';

export interface BatchHandlerDeps {
  js: JetStreamClient;
  logger: Logger;
  metrics: ProcessorMetrics;
  health: ProcessorHealth;
  /** Aborts when the processor stops: waits end, what is not done is handed back. */
  signal: AbortSignal;
}

/**
 * Hands batches to the processor's handler and settles every message: acked once the handler
 * returned, else retried or dead-lettered by the {@link RetryPolicy}. A failed batch is taken
 * apart and handled message by message, in stream order, so that one poison message cannot
 * hold the rest back.
 */
export class BatchHandler {
  readonly #def: ProcessorDefinition;
  readonly #deps: BatchHandlerDeps;
  readonly #policy: RetryPolicy;
  readonly #ctx: HandlerContext;
  readonly #labels: { processor: string };

  constructor(def: ProcessorDefinition, deps: BatchHandlerDeps) {
    this.#def = def;
    this.#deps = deps;
    this.#policy = new RetryPolicy(def);
    this.#ctx = { processor: def.name, logger: deps.logger };
    this.#labels = { processor: def.name };
  }

  async handle(batch: JsMsg[]): Promise<void> {
    const end = this.#deps.metrics.batchSeconds.startTimer(this.#labels);
    // keep long batches from being redelivered elsewhere while they are being handled
    const keepAlive = setInterval(
      () => {
        for (const m of batch) m.working();
      },
      Math.max(500, ackWaitMsOf(this.#def) / 3),
    );
    try {
      const outcome = await this.#handleHeld(batch).then(
        (result) => ({ result }),
        (err: unknown) => ({ err }),
      );
      if ('err' in outcome) await this.#recover(batch, outcome.err);
      else await this.#done(batch, outcome.result);
    } finally {
      clearInterval(keepAlive);
      end();
    }
  }

  /** After the batch failed with `err`. */
  async #recover(batch: JsMsg[], err: unknown): Promise<void> {
    if (this.#policy.holds(err)) {
      // stopping: hand the batch back without spending a delivery on the outage
      for (const m of batch) m.nak();
    } else if (batch.length === 1 && !this.#def.ordered) {
      await this.#settle(batch[0]!, err);
    } else {
      // find the culprit(s): one by one, in stream order
      for (const m of batch) await this.#handleAlone(m);
    }
  }

  /**
   * The handler committed `batch`: the entries it returned as dead letters go to the DLQ, each
   * alone with its reason, and the others are acked.
   */
  async #done(batch: JsMsg[], result: HandleOutcome): Promise<void> {
    const reasons = new Map((result?.deadLetters ?? []).map((d) => [d.seq, d.reason]));
    if (reasons.size === 0) return this.#ack(batch);
    const keep: JsMsg[] = [];
    for (const m of batch) {
      const reason = reasons.get(m.seq);
      if (reason === undefined) keep.push(m);
      else await this.#deadLetter(m, reason, m.info.deliveryCount);
    }
    await this.#ack(keep);
  }

  async #deadLetter(m: JsMsg, reason: string, deliveries: number): Promise<void> {
    const source = { processor: this.#def.name, stream: this.#def.stream };
    await deadLetter(this.#deps.js, source, m, reason, deliveries);
    this.#deps.metrics.handled.inc({ ...this.#labels, outcome: 'dlq' });
    this.#deps.logger.warn({ seq: m.seq, subject: m.subject, reason }, 'message moved to the DLQ');
  }

  /** The whole batch, held and tried again in place while a dependency is down. */
  #handleHeld(batch: JsMsg[]): Promise<HandleOutcome> {
    const { logger, metrics, health, signal } = this.#deps;
    return retryInPlace(() => this.#def.handle(batch.map(logEntryOf), this.#ctx), {
      isRetryable: (err) => this.#policy.holds(err),
      backoff: this.#policy.hold,
      signal,
      onRetry: (err, attempt) => {
        health.failed(`unavailable: ${err instanceof Error ? err.message : String(err)}`);
        metrics.handled.inc({ ...this.#labels, outcome: 'retried' }, batch.length);
        logger.warn(
          { err, attempt, seqs: [batch[0]?.seq, batch.at(-1)?.seq] },
          'a dependency is unavailable; retrying the batch in place',
        );
      },
    });
  }

  /**
   * One message of a failed batch on its own. Ordered processors retry it where it stands (a
   * nak would let JetStream deliver later messages first); the others hand it back to JetStream.
   */
  async #handleAlone(m: JsMsg): Promise<void> {
    const { logger, metrics, signal } = this.#deps;
    let deliveries = m.info.deliveryCount;
    let result: HandleResult | undefined;
    try {
      await retryInPlace(
        async (attempt) => {
          deliveries = attempt;
          result = (await this.#def.handle([logEntryOf(m)], this.#ctx)) ?? undefined;
        },
        {
          firstAttempt: deliveries,
          isRetryable: (err, attempt) => this.#def.ordered === true && !this.#policy.givesUp(err, attempt),
          backoff: this.#policy.message,
          signal,
          onRetry: (err, attempt) => {
            metrics.handled.inc({ ...this.#labels, outcome: 'retried' });
            logger.warn({ seq: m.seq, attempt, err }, 'message failed; retrying in place (ordered)');
            m.working();
          },
        },
      );
    } catch (err) {
      return this.#settle(m, err, deliveries);
    }
    await this.#done([m], result);
  }

  /** A message that failed on its `deliveries`-th delivery: dead-lettered, or handed back. */
  async #settle(m: JsMsg, err: unknown, deliveries = m.info.deliveryCount): Promise<void> {
    const { logger, metrics } = this.#deps;
    const reason = err instanceof Error ? err.message : String(err);
    if (this.#policy.givesUp(err, deliveries)) {
      await this.#deadLetter(m, reason, deliveries);
    } else if (this.#def.ordered) {
      // stopping: the standby (or the next start) takes it up at once
      m.nak();
    } else {
      m.nak(this.#policy.message.delay(deliveries));
      metrics.handled.inc({ ...this.#labels, outcome: 'retried' });
      logger.warn({ seq: m.seq, deliveries, err }, 'message failed; will be retried');
    }
  }

  /**
   * Acks what the handler committed: plain acks, then one confirmed ack for the last message.
   * The server handles a connection's messages in order, so its reply vouches for the acks
   * before it, in one round trip instead of one per message. A failed or lost ack does not undo
   * the work and must not re-run the handler here: JetStream redelivers after ack_wait, and
   * PgCheckpoint makes that a no-op.
   */
  async #ack(messages: JsMsg[]): Promise<void> {
    try {
      for (const m of messages.slice(0, -1)) m.ack();
      await messages.at(-1)?.ackAck();
      this.#deps.metrics.handled.inc({ ...this.#labels, outcome: 'acked' }, messages.length);
    } catch (err) {
      this.#deps.logger.warn(
        { err, seqs: messages.map((m) => m.seq) },
        'ack failed; JetStream will redeliver',
      );
    }
  }
}
