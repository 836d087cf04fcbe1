import { isPublishError, type Logger, type Publisher } from '@telly/runtime';
import {
  type AcceptPolicy,
  checkAccepted,
  createEvent,
  DEFAULT_ACCEPT_POLICY,
  decodeMessage,
  encodeResolvedJson,
  isSenmlError,
  isTellyId,
  keyHash,
  messageFormat,
  messageSubject,
  type Protocol,
  type RejectionReason,
  sameAccess,
  type ThingCredential,
} from '@telly/schemas';
import { v7 } from 'uuid';
import type { CredentialsCache } from './credentials/credentials-cache.ts';
import { IngestError } from './ingest-error.ts';
import type { BridgeMetrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import { recordEvent } from './record-event.ts';

/** Largest accepted device message. @default 256 KiB */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

/** Headers on every MESSAGES entry (docs/log.md). */
export const MESSAGE_HEADERS = {
  CONTENT_TYPE: 'Content-Type',
  PROTOCOL: 'Telly-Protocol',
  RECEIVED: 'Telly-Received',
  MESSAGE_ID: 'Telly-Message-Id',
} as const;

export interface IngestOptions {
  protocol: Protocol;
  credentials: CredentialsCache;
  publisher: Publisher;
  metrics: BridgeMetrics;
  logger: Logger;
  /** @default {@link DEFAULT_MAX_PAYLOAD_BYTES} */
  maxPayloadBytes?: number;
  rateLimiter?: RateLimiter;
  /** Which record times are accepted around receipt, and how many months one message spans. @default DEFAULT_ACCEPT_POLICY */
  accept?: AcceptPolicy;
}

export interface IngestMessage {
  thing: ThingCredential;
  channelId: string;
  subtopic: readonly string[];
  contentType: string;
  body: Uint8Array;
  /**
   * The device's id for this message (HTTP `Idempotency-Key`, MQTT payload id): a retry with
   * the same id is stored once. A fresh id is minted when absent.
   */
  messageId?: string | undefined;
  /** When the bridge received it, ms since the epoch. @default Date.now() */
  receivedAt?: number;
  /**
   * Hash of the key the thing presented. When the credential at hand does not connect the
   * channel, the bucket is read once more under it: the thing may have been connected a moment
   * ago, after the credential the bridge holds was written.
   */
  keyHash?: string;
}

export interface Accepted {
  id: string;
  /** Position in the MESSAGES stream. */
  seq: number;
  /** True when this was a retry of a message already stored. */
  duplicate: boolean;
}

/**
 * The path every device message takes, whatever the protocol: authenticate the thing, check the
 * channel, rate and size, validate and resolve SenML, and publish to MESSAGES. It resolves only
 * once JetStream acked the message, so a bridge acks the device only for what is durable.
 */
export class Ingest {
  readonly #o: IngestOptions;
  readonly #limiter: RateLimiter;
  readonly #maxBytes: number;

  constructor(options: IngestOptions) {
    this.#o = options;
    this.#limiter = options.rateLimiter ?? new RateLimiter();
    this.#maxBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  get protocol(): Protocol {
    return this.#o.protocol;
  }

  /** The thing a key belongs to; IngestError `unauthenticated` or `thing-disabled` otherwise. */
  async authenticate(key: string, thingId?: string): Promise<ThingCredential> {
    // a lookup that fails (NATS unreachable) is thrown as is: the caller answers "try again", not "wrong key"
    const credential = key ? await this.#o.credentials.get(keyHash(key)) : undefined;
    if (!credential || (thingId !== undefined && credential.thingId !== thingId)) {
      this.#count('rejected', 'unauthenticated');
      throw new IngestError('unauthenticated', 'unknown thing key');
    }
    if (!credential.enabled) {
      throw this.reject(credential, undefined, new IngestError('thing-disabled', 'the thing is disabled'));
    }
    return credential;
  }

  /** The message's credential, or its latest when only that one connects the channel. */
  async #connected({ thing, channelId, keyHash }: IngestMessage): Promise<ThingCredential> {
    if (thing.channels.includes(channelId) || keyHash === undefined) return thing;
    const latest = await this.#o.credentials.latest(keyHash).catch(() => undefined);
    return latest && sameAccess(thing, latest) && latest.channels.includes(channelId) ? latest : thing;
  }

  /** Checks that the thing may use the channel (publish or subscribe). */
  authorize(thing: ThingCredential, channelId: string): void {
    if (!thing.channels.includes(channelId)) {
      throw new IngestError('forbidden', `thing ${thing.thingId} is not connected to channel ${channelId}`);
    }
  }

  async publish(message: IngestMessage): Promise<Accepted> {
    const { channelId } = message;
    const thing = await this.#connected(message);
    const receivedAt = message.receivedAt ?? Date.now();
    try {
      this.authorize(thing, channelId);
      if (message.body.byteLength > this.#maxBytes) {
        throw new IngestError(
          'payload-too-large',
          `the message is ${message.body.byteLength} bytes, at most ${this.#maxBytes} allowed`,
        );
      }
      const own = thing.rateLimit;
      const wait = own
        ? this.#limiter.take(thing.thingId, Date.now(), { ratePerSecond: own.perSecond, burst: own.burst })
        : this.#limiter.take(thing.thingId);
      if (wait > 0)
        throw new IngestError('rate-limited', 'too many messages from this thing', { retryAfter: wait });
      const { contentType, body } = this.#validate(message.contentType, message.body, receivedAt);
      const id = message.messageId ?? v7();
      const subject = messageSubject({
        tenant: thing.tenantId,
        channel: channelId,
        thing: thing.thingId,
        subtopic: [...message.subtopic],
      });
      const ack = await this.#o.publisher
        .publish(subject, body, {
          msgId: `${thing.thingId}:${id}`,
          orderingKey: thing.thingId,
          headers: {
            [MESSAGE_HEADERS.CONTENT_TYPE]: contentType,
            [MESSAGE_HEADERS.PROTOCOL]: this.#o.protocol,
            [MESSAGE_HEADERS.RECEIVED]: String(receivedAt),
            [MESSAGE_HEADERS.MESSAGE_ID]: id,
          },
        })
        .catch((err: unknown) => {
          if (isPublishError(err) && err.code === 'MESSAGE_TOO_LARGE') {
            throw new IngestError('payload-too-large', 'the log refused the message as too large', {
              cause: err,
            });
          }
          const retryAfter = isPublishError(err) && err.code === 'STREAM_FULL' ? 5 : 1;
          throw new IngestError('unavailable', 'the log is not accepting messages right now', {
            cause: err,
            retryAfter,
          });
        });
      this.#o.metrics.ackSeconds.observe({ protocol: this.#o.protocol }, (Date.now() - receivedAt) / 1000);
      this.#count('accepted');
      return { id, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw err instanceof IngestError ? this.reject(thing, channelId, err) : err;
    }
  }

  /**
   * Records a refusal once the tenant is known: counted, and a `message.rejected` event (best
   * effort: a refusal must not wait on, or fail with, the log). Returns `error` for the caller to
   * throw or answer with.
   */
  reject(thing: ThingCredential, channelId: string | undefined, error: IngestError): IngestError {
    this.#count('rejected', error.reason);
    const event = createEvent(
      'message.rejected',
      {
        tenantId: thing.tenantId,
        data: {
          protocol: this.#o.protocol,
          thingId: thing.thingId,
          ...(isTellyId(channelId) ? { channelId } : {}),
          reason: error.reason,
          detail: error.message.slice(0, 1024),
        },
      },
      { id: v7(), now: Date.now() },
    );
    recordEvent(this.#o.publisher, this.#o.logger, event);
    return error;
  }

  #validate(
    contentType: string,
    body: Uint8Array,
    receivedAt: number,
  ): { contentType: string; body: Uint8Array } {
    const format = messageFormat(contentType);
    if (!format) {
      throw new IngestError(
        'unsupported-content-type',
        `${contentType || 'no content type'} is not one of application/senml+json, application/senml+cbor, application/json`,
      );
    }
    try {
      const { records } = decodeMessage(contentType, body, {
        now: receivedAt / 1000,
        maxBytes: this.#maxBytes,
      });
      // only what every projection can store is acked (an unstorable entry would be lost after the ack)
      checkAccepted(records, receivedAt, this.#o.accept ?? DEFAULT_ACCEPT_POLICY);
      // SenML is stored resolved (absolute names and times); plain JSON as received
      return format === 'json'
        ? { contentType: 'application/json', body }
        : { contentType: 'application/senml+json', body: encodeResolvedJson(records) };
    } catch (err) {
      if (isSenmlError(err)) throw new IngestError('invalid-payload', err.message, { cause: err });
      throw err;
    }
  }

  #count(outcome: 'accepted' | 'rejected', reason: RejectionReason | '' = ''): void {
    this.#o.metrics.messages.inc({ protocol: this.#o.protocol, outcome, reason });
  }
}
