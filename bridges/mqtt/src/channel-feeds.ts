import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { type Logger, redriveTargetOf } from '@telly/runtime';
import { messageFilters, parseSubject, STREAMS } from '@telly/schemas';
import { channelTopic } from './topics.ts';

/** Delivers a message from the log to this instance's subscribers of its channel topic. */
export type Deliver = (topic: string, payload: Uint8Array) => void;

/**
 * Who subscribed: the broker's client object, not its id — when a thing takes over its own
 * session, the connection that leaves and the one that arrives share the id.
 */
export type Subscriber = object;

interface Feed {
  subscribers: Set<Subscriber>;
  stop: () => void;
}

/**
 * Channel subscriptions fed from JetStream rather than from this broker's memory: whatever
 * instance a thing published on, the message is in MESSAGES, and every instance with a subscriber
 * on that channel reads it from there. One ordered consumer per channel with local subscribers,
 * starting at new messages, stopped when the last one leaves.
 */
export class ChannelFeeds {
  readonly #js: JetStreamClient;
  readonly #deliver: Deliver;
  readonly #logger: Logger;
  readonly #feeds = new Map<string, Feed>();

  constructor(js: JetStreamClient, deliver: Deliver, logger: Logger) {
    this.#js = js;
    this.#deliver = deliver;
    this.#logger = logger;
  }

  /** Resolves once the feed is consuming, so a publish right after a SUBACK is not missed. */
  async add(subscriber: Subscriber, tenantId: string, channelId: string): Promise<void> {
    const existing = this.#feeds.get(channelId);
    if (existing) {
      existing.subscribers.add(subscriber);
      return;
    }
    const feed: Feed = { subscribers: new Set([subscriber]), stop: () => {} };
    this.#feeds.set(channelId, feed);
    const filters = messageFilters({ tenant: tenantId, channel: channelId });
    const consumer = await this.#js.consumers.get(STREAMS.MESSAGES.name, {
      // one filter, as a string: the consumer is created by name (CONSUMER.CREATE.MESSAGES.<name>.<filter>),
      // the only consumer creation the bridge's NATS user may do (docs/security.md#nats)
      filter_subjects: filters.length === 1 ? (filters[0] as string) : [...filters],
      deliver_policy: DeliverPolicy.New,
    });
    const messages = await consumer.consume();
    feed.stop = () => void messages.stop();
    if (this.#feeds.get(channelId) !== feed) return feed.stop();
    (async () => {
      for await (const m of messages) {
        const subject = parseSubject(m.subject);
        // a redriven copy (`telly dlq redrive`): subscribers got the original
        if (subject.kind !== 'msg' || redriveTargetOf(m.headers) !== undefined) continue;
        this.#deliver(channelTopic(channelId, subject.subtopic), m.data);
      }
    })().catch((err: unknown) => this.#logger.warn({ err, channelId }, 'channel feed ended'));
  }

  remove(subscriber: Subscriber, channelId?: string): void {
    for (const [id, feed] of this.#feeds) {
      if (channelId !== undefined && id !== channelId) continue;
      feed.subscribers.delete(subscriber);
      if (feed.subscribers.size === 0) {
        feed.stop();
        this.#feeds.delete(id);
      }
    }
  }

  close(): void {
    for (const feed of this.#feeds.values()) feed.stop();
    this.#feeds.clear();
  }
}
