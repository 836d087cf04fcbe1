import type { MsgHdrs } from '@nats-io/transport-node';
import type { Logger } from '../logger.ts';

/** One log entry as a processor sees it. */
export interface ProcessorMessage {
  subject: string;
  /** Stream sequence: the position in the log, unique and increasing. */
  seq: number;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** When the message entered the stream, ms since epoch. */
  timestampMs: number;
}

export interface HandlerContext {
  processor: string;
  logger: Logger;
}

/** What a handler may return besides nothing: entries of the batch it could not take. */
export interface HandleResult {
  /**
   * Entries that can never be handled (an entry no projection can store), each with its
   * reason: every one goes to the DLQ alone, while the rest of the batch, which the handler
   * did commit, is acked.
   */
  deadLetters?: readonly DeadLetterRequest[];
}

/** What `handle` resolves to: nothing (the whole batch is acked), or a {@link HandleResult}. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing stays a valid handler
export type HandleOutcome = void | HandleResult;

/** One entry of a batch to dead-letter, by its stream sequence. */
export interface DeadLetterRequest {
  seq: number;
  reason: string;
}

export interface ProcessorDefinition {
  /** Durable consumer name; instances with the same name share the work. */
  name: string;
  stream: string;
  /** Subject filters of the consumer. @default the whole stream */
  filter?: string[];
  batch?: {
    /** @default 256 */
    maxMessages?: number;
    /** How long one fetch waits for messages (at least 1000). @default 1000 */
    expiresMs?: number;
    /**
     * Pull continuously (one pull session keeping up to `maxMessages` delivered) and hand out
     * what has arrived since the last batch, instead of one fetch per batch, which waits until
     * it holds `maxMessages` or `expiresMs` ran out: a result within milliseconds at any rate.
     * Instances still share the work. (Ordered processors always consume so.) @default false
     */
    continuous?: boolean;
    /**
     * Continuous and ordered sources: how long a batch may wait for more messages after its
     * first one arrived (Kafka's `linger.ms`): fewer, larger batches for that much latency.
     * @default 0
     */
    lingerMs?: number;
  };
  /**
   * Handles a batch in stream order. Return normally once every side effect is committed: only
   * then is the batch acked. An entry that can never succeed is either returned in
   * {@link HandleResult.deadLetters} (the rest of the batch committed: only that entry goes to
   * the DLQ) or thrown as a {@link PermanentError} (the batch is then retried message by
   * message, and the failing one goes to the DLQ at once); any other error is retried with
   * backoff, message by message.
   */
  handle(messages: ProcessorMessage[], ctx: HandlerContext): Promise<HandleOutcome>;
  /**
   * Deliveries before a failing message is given up on: published to `dlq.<name>` with the
   * reason, and terminated. @default 5
   */
  maxDeliver?: number;
  /** Time a delivered message may stay unacked before it is redelivered. @default 30000 */
  ackWaitMs?: number;
  /**
   * Strict stream order across instances: one instance at a time is pinned to the consumer
   * (JetStream priority group), the others take over if it dies. Needed by processors whose
   * state depends on order (per thing); others share the work for throughput. @default false
   */
  ordered?: boolean;
  /**
   * Called with the consumer's ack floor (every message at or below it is acked and will not come
   * back), e.g. to prune an applied-set. Runs with the lag refresh.
   */
  onAckFloor?: (seq: number) => Promise<void>;
}
