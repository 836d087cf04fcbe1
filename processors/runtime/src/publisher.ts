import { JetStreamApiError, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  headers as natsHeaders,
  type Subscription,
} from '@nats-io/transport-node';
import { EVENT_TYPE_HEADER, encodeEvent, subjectOf, type TellyEvent } from '@telly/schemas';
import { isPublishError, PublishError, toPublishError } from './publish-error.ts';
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

/** A publish sent and awaiting its ack on the shared inbox. */
interface Pending {
  subject: string;
  deadline: number;
  resolve: (ack: PubAck) => void;
  reject: (err: PublishError) => void;
}

const decoder = new TextDecoder();

/**
 * Publishes into JetStream with many acks outstanding at once, retrying only what may succeed
 * later, under the same `Nats-Msg-Id` so a retry never duplicates. Resolves with the ack once the
 * message is durably in the stream; rejects with a {@link PublishError} when it is not.
 *
 * Every publish carries a reply subject under one inbox of this publisher (`<inbox>.<token>`),
 * and a single wildcard subscription receives every ack: a publish costs one `PUB` and one map
 * entry instead of a request with its own subscription bookkeeping and timer (`js.publish`),
 * which is what lets a bridge keep hundreds in flight so that the log syncs them together. Ack
 * timeouts are checked by one timer for all of them.
 */
export class Publisher {
  readonly #nc: NatsConnection;
  readonly #options: Required<PublisherOptions>;
  readonly #tails = new Map<string, Promise<unknown>>();
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];
  // insertion order is deadline order: every attempt waits the same ackTimeoutMs
  readonly #pending = new Map<string, Pending>();
  #inbox: string | undefined;
  #sub: Subscription | undefined;
  #nextToken = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `js`: the client of the connection to publish on (or the connection itself). */
  constructor(js: JetStreamClient | NatsConnection, options: PublisherOptions = {}) {
    // the JetStream client carries its connection (`nc`); publishes need nothing else of it
    this.#nc = 'nc' in js ? (js as unknown as { nc: NatsConnection }).nc : (js as NatsConnection);
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
    const previous = this.#tails.get(key);
    const next = previous
      ? previous.then(
          () => this.#windowed(subject, payload, options),
          () => this.#windowed(subject, payload, options),
        )
      : this.#windowed(subject, payload, options);
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

  #withRetry(subject: string, payload: Uint8Array | string, options: PublishOptions): Promise<PubAck> {
    const deadline = Date.now() + this.#options.retryForMs;
    const h = publishHeaders(options);
    // without a msgId a retry could store the message twice: only ids make retries safe
    return retryInPlace(() => this.#send(subject, payload, h), {
      isRetryable: (err) =>
        isPublishError(err) && err.retryable && Boolean(options.msgId) && Date.now() < deadline,
      backoff: RETRY_BACKOFF,
    });
  }

  /** One attempt: the message out with a reply token, settled by its ack or the timeout. */
  #send(subject: string, payload: Uint8Array | string, h: MsgHdrs | undefined): Promise<PubAck> {
    let inbox: string;
    try {
      inbox = this.#ackInbox();
    } catch (err) {
      return Promise.reject(toPublishError(err, subject));
    }
    const token = (this.#nextToken++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      try {
        this.#nc.publish(
          subject,
          payload,
          h ? { reply: `${inbox}.${token}`, headers: h } : { reply: `${inbox}.${token}` },
        );
      } catch (err) {
        reject(toPublishError(err, subject));
        return;
      }
      this.#pending.set(token, {
        subject,
        deadline: Date.now() + this.#options.ackTimeoutMs,
        resolve,
        reject,
      });
      this.#timer ??= this.#expireIn(this.#options.ackTimeoutMs);
    });
  }

  /** The shared ack inbox, subscribed on first use (and again after the connection closed). */
  #ackInbox(): string {
    if (this.#inbox !== undefined && this.#sub && !this.#sub.isClosed()) return this.#inbox;
    const prefix = (this.#nc as unknown as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
    const inbox = createInbox(prefix);
    this.#sub = this.#nc.subscribe(`${inbox}.*`, { callback: (err, msg) => this.#onAck(err, msg) });
    this.#inbox = inbox;
    void this.#nc.closed().then(() => this.#failAll('the NATS connection closed'));
    return inbox;
  }

  #onAck(err: Error | null, msg: Msg): void {
    if (err) {
      // the subscription itself failed (permissions, connection closed): nothing more will arrive
      this.#failAll(err.message);
      return;
    }
    const token = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    const pending = this.#pending.get(token);
    if (!pending) return; // answered after its timeout: the retry (same msgId) gets its own ack
    this.#pending.delete(token);
    const status = msg.headers?.code ?? 0;
    if (status >= 300 || msg.data.length === 0) {
      // 503: no stream took the subject (JetStream down or restarting); retried like a timeout
      pending.reject(
        new PublishError(
          status === 503 ? 'UNAVAILABLE' : 'REJECTED',
          pending.subject,
          status === 503 ? 'no responders' : `status ${status} ${msg.headers?.description ?? ''}`.trim(),
        ),
      );
      return;
    }
    let response: { error?: { code: number; err_code: number; description: string } } & PubAck;
    try {
      response = JSON.parse(decoder.decode(msg.data));
    } catch (parseError) {
      pending.reject(toPublishError(parseError, pending.subject));
      return;
    }
    if (response.error) {
      pending.reject(toPublishError(new JetStreamApiError(response.error), pending.subject));
    } else if (!response.stream) {
      pending.reject(new PublishError('REJECTED', pending.subject, 'invalid ack response'));
    } else {
      response.duplicate = response.duplicate ?? false;
      pending.resolve(response);
    }
  }

  /** Times out every publish past its deadline, then waits for the next one's. */
  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (const [token, pending] of this.#pending) {
      if (pending.deadline > now) {
        this.#timer = this.#expireIn(pending.deadline - now);
        return;
      }
      this.#pending.delete(token);
      pending.reject(new PublishError('UNAVAILABLE', pending.subject, 'timeout waiting for the ack'));
    }
  }

  // unref: a publish awaiting its ack is held open by the connection's socket, not by the timer
  #expireIn(ms: number): NodeJS.Timeout {
    return setTimeout(() => this.#expire(), ms).unref();
  }

  #failAll(reason: string): void {
    for (const [token, pending] of this.#pending) {
      this.#pending.delete(token);
      pending.reject(new PublishError('UNAVAILABLE', pending.subject, reason));
    }
  }
}

/** The JetStream headers of a publish (as `js.publish` sets them), or none. */
function publishHeaders(options: PublishOptions): MsgHdrs | undefined {
  const own = options.headers ? Object.entries(options.headers) : [];
  if (own.length === 0 && !options.msgId && !options.ttl && options.expectLastSubjectSequence === undefined)
    return undefined;
  const h = natsHeaders();
  for (const [name, value] of own) h.set(name, value);
  if (options.msgId) h.set('Nats-Msg-Id', options.msgId);
  if (options.ttl) h.set('Nats-TTL', options.ttl);
  if (options.expectLastSubjectSequence !== undefined) {
    h.set('Nats-Expected-Last-Subject-Sequence', String(options.expectLastSubjectSequence));
  }
  return h;
}
