import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { ThingCredential } from '@telly/registry';
import type { Logger, Publisher } from '@telly/runtime';
import { createEvent, decodeEvent, type EventOf, STREAMS, type TellyEvent } from '@telly/schemas';
import { v7 } from 'uuid';

const NS_PER_MS = 1_000_000;
/** A delivered command not PUBACKed by the device within this is sent again. @default 30 s */
export const COMMAND_ACK_WAIT_MS = 30_000;
/** A thing's command consumer is removed after this long without the thing connecting. @default 7 days */
export const COMMAND_CONSUMER_IDLE_MS = 7 * 24 * 3_600_000;

/** `things/<thing>/commands`: where a connected thing receives its commands (QoS 1). */
export const commandTopic = (thingId: string) => `things/${thingId}/commands`;

export interface CommandDelivery {
  id: string;
  name: string;
  payload: unknown;
  expiresAt: string;
}

type Send = (delivery: CommandDelivery) => void;

interface Feed {
  thing: ThingCredential;
  pending: Map<string, JsMsg>;
  stop: () => void;
}

/**
 * Command downlink: each thing has a durable consumer on its `cmd.<tenant>.<thing>` subject of
 * COMMANDS. While the thing is connected, its commands are published to it on
 * `things/<thing>/commands`; a command is acked in JetStream (and recorded `command.delivered`)
 * only when the device PUBACKs it, so commands sent while it was offline, or not acked before a
 * disconnect, are delivered when it reconnects — unless they expired meanwhile.
 */
export class CommandFeeds {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #events: Publisher;
  readonly #logger: Logger;
  readonly #feeds = new Map<string, Feed>();

  constructor(js: JetStreamClient, jsm: JetStreamManager, events: Publisher, logger: Logger) {
    this.#js = js;
    this.#jsm = jsm;
    this.#events = events;
    this.#logger = logger;
  }

  /** Starts delivering to a session (key: the MQTT client id). */
  async start(sessionId: string, thing: ThingCredential, send: Send): Promise<void> {
    this.stop(sessionId);
    const name = `cmd_${thing.thingId}`;
    await this.#jsm.consumers.add(STREAMS.COMMANDS.name, {
      durable_name: name,
      filter_subject: `cmd.${thing.tenantId}.${thing.thingId}`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: COMMAND_ACK_WAIT_MS * NS_PER_MS,
      inactive_threshold: COMMAND_CONSUMER_IDLE_MS * NS_PER_MS,
      max_ack_pending: 100,
    });
    const consumer = await this.#js.consumers.get(STREAMS.COMMANDS.name, name);
    const messages = await consumer.consume({ max_messages: 16 });
    const feed: Feed = { thing, pending: new Map(), stop: () => void messages.stop() };
    this.#feeds.set(sessionId, feed);
    (async () => {
      for await (const m of messages) {
        const event = decodeEvent(m.data) as EventOf<'command.requested'>;
        const { commandId, name: commandName, payload, expiresAt } = event.data;
        if (Date.parse(expiresAt) <= Date.now()) {
          m.ack(); // too late: the commands processor records it as expired
          continue;
        }
        feed.pending.set(commandId, m);
        send({ id: commandId, name: commandName, payload, expiresAt });
      }
    })().catch((err: unknown) => this.#logger.warn({ err, thingId: thing.thingId }, 'command feed ended'));
  }

  /** The device PUBACKed a command: it is delivered. */
  delivered(sessionId: string, payload: Buffer | Uint8Array | string): void {
    const feed = this.#feeds.get(sessionId);
    let id: unknown;
    try {
      id = (JSON.parse(Buffer.from(payload as Uint8Array).toString()) as { id?: unknown }).id;
    } catch {
      return;
    }
    const m = typeof id === 'string' ? feed?.pending.get(id) : undefined;
    if (!feed || !m || typeof id !== 'string') return;
    feed.pending.delete(id);
    m.ack();
    this.record(
      createEvent(
        'command.delivered',
        {
          tenantId: feed.thing.tenantId,
          data: { commandId: id, thingId: feed.thing.thingId, protocol: 'mqtt' },
        },
        { id: v7(), now: Date.now() },
      ),
      `delivered:${id}`,
    );
  }

  /** The session ended: commands not yet PUBACKed go back to the log for the next connection. */
  stop(sessionId: string): void {
    const feed = this.#feeds.get(sessionId);
    if (!feed) return;
    this.#feeds.delete(sessionId);
    feed.stop();
    for (const m of feed.pending.values()) m.nak();
  }

  close(): void {
    for (const id of [...this.#feeds.keys()]) this.stop(id);
  }

  /** Records a command status event (best effort, deduplicated by `msgId`). */
  record(event: TellyEvent, msgId: string): void {
    this.#events
      .publishEvent(event, { msgId })
      .catch((err: unknown) =>
        this.#logger.warn({ err, type: event.type }, 'could not record a command event'),
      );
  }
}
