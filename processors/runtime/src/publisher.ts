import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { EVENT_TYPE_HEADER, encodeEvent, subjectOf, type TellyEvent } from '@telly/schemas';
import { isPublishError, toPublishError } from './publish-error.ts';
import { Backoff, retryInPlace } from './retry.ts';

export interface PublisherOptions {
  /** Publishes awaiting their JetStream ack at once; more wait their turn. @default 1024 */
  maxInFlight?: number;
  /** Wait for one ack before it counts as unavailable and is retried. @default 5000 */
  ackTimeoutMs?: number;
  /** Keep retrying an unavailable JetStream this long before giving up. @default 10000 */
  retryForMs?: number;
}

export const DEFAULT_PUBLISHER = { maxInFlight: 1024, ackTimeoutMs: 5_000, retryForMs: 10_000 } as const;

export interface PublishOptions {
  /** `Nats-Msg-Id`: a second publish with the same id inside the duplicate window is a no-op. */
  msgId?: string;
  headers?: Record<string, string>;
  /**
   * Messages with the same key (a thing id, say) reach the log in the order they were published,
   * retries included: the next waits for the previous one's ack. Different keys run in parallel.
   */
  orderingKey?: string;
  /** Optimistic concurrency on the subject (`Nats-Expected-Last-Subject-Sequence`). */
  expectLastSubjectSequence?: number;
  /** Per-message TTL such as `'30s'` (streams with `allow_msg_ttl`). */
  ttl?: string;
}

/** Between retries of an unavailable JetStream: 50 ms doubling to 1 s. */
const RETRY_BACKOFF = new Backoff({ minMs: 50, maxMs: 1_000 });

/**
 * Publishes into JetStream with many acks outstanding at once (windowed async acks), retrying
 * only what may succeed later, under the same `Nats-Msg-Id` so a retry never duplicates.
 * Resolves with the ack once the message is durably in the stream; rejects with a
 * {@link PublishError} when it is not.
 */
export class Publisher {
  readonly #js: JetStreamClient;
  readonly #options: Required<PublisherOptions>;
  readonly #tails = new Map<string, Promise<unknown>>();
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(js: JetStreamClient, options: PublisherOptions = {}) {
    this.#js = js;
    this.#options = { ...DEFAULT_PUBLISHER, ...options };
  }

  /** Publishes awaiting their ack now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Publishes a Telly event on its subject (`subjectOf`) with the `Telly-Event` header; the
   * event id is the `Nats-Msg-Id` unless `options.msgId` names a more specific one (e.g. one per
   * command outcome, so that two instances recording it keep one).
   */
  publishEvent(event: TellyEvent, options: Omit<PublishOptions, 'headers'> = {}): Promise<PubAck> {
    return this.publish(subjectOf(event), encodeEvent(event), {
      ...options,
      msgId: options.msgId ?? event.id,
      headers: { [EVENT_TYPE_HEADER]: event.type },
    });
  }

  publish(subject: string, payload: Uint8Array | string, options: PublishOptions = {}): Promise<PubAck> {
    const key = options.orderingKey;
    if (key === undefined) return this.#windowed(subject, payload, options);
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(
      () => this.#windowed(subject, payload, options),
      () => this.#windowed(subject, payload, options),
    );
    this.#tails.set(key, next);
    const cleanup = () => {
      if (this.#tails.get(key) === next) this.#tails.delete(key);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  async #windowed(subject: string, payload: Uint8Array | string, options: PublishOptions): Promise<PubAck> {
    if (this.#inFlight >= this.#options.maxInFlight) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#inFlight++;
    try {
      return await this.#withRetry(subject, payload, options);
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
  }

  async #withRetry(subject: string, payload: Uint8Array | string, options: PublishOptions): Promise<PubAck> {
    const deadline = Date.now() + this.#options.retryForMs;
    const h = natsHeaders();
    for (const [name, value] of Object.entries(options.headers ?? {})) h.set(name, value);
    // without a msgId a retry could store the message twice: only ids make retries safe
    return retryInPlace(
      async () => {
        try {
          return await this.#js.publish(subject, payload, {
            headers: h,
            timeout: this.#options.ackTimeoutMs,
            ...(options.msgId ? { msgID: options.msgId } : {}),
            ...(options.ttl ? { ttl: options.ttl } : {}),
            ...(options.expectLastSubjectSequence !== undefined
              ? { expect: { lastSubjectSequence: options.expectLastSubjectSequence } }
              : {}),
          });
        } catch (err) {
          throw toPublishError(err, subject);
        }
      },
      {
        isRetryable: (err) =>
          isPublishError(err) && err.retryable && Boolean(options.msgId) && Date.now() < deadline,
        backoff: RETRY_BACKOFF,
      },
    );
  }
}
