import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { commandSubject, decodeEvent, type EventOf, STREAMS, type ThingCredential } from '@telly/schemas';
import type { CommandDelivery } from './command-delivery.ts';

const NS_PER_MS = 1_000_000;
/** A command handed to the thing but not acknowledged by it within this is sent again. @default 30 s */
export const COMMAND_ACK_WAIT_MS = 30_000;
/** A thing's command consumer is removed after this long without the thing connecting. @default 7 days */
export const COMMAND_CONSUMER_IDLE_MS = 7 * 24 * 3_600_000;
/** Commands handed to a thing and not yet acknowledged by it, at most. */
const MAX_UNACKNOWLEDGED = 100;

/**
 * A thing's command downlink while one of its sessions is open: its durable consumer on
 * `cmd.<tenant>.<thing>` of COMMANDS, iterated as deliveries. A command is acked in JetStream
 * only once the thing acknowledged it ({@link delivered}), so commands sent while it was offline,
 * or not acknowledged before a disconnect, are delivered when it comes back — unless they expired
 * meanwhile (those are acked unseen: the commands processor records them as expired).
 */
export class CommandFeed implements AsyncIterable<CommandDelivery> {
  readonly #messages: ConsumerMessages;
  readonly #pending = new Map<string, JsMsg>();

  private constructor(messages: ConsumerMessages) {
    this.#messages = messages;
  }

  /** Resolves once the consumer is in place and consuming. */
  static async start(jsm: JetStreamManager, thing: ThingCredential): Promise<CommandFeed> {
    const name = `cmd_${thing.thingId}`;
    await jsm.consumers.add(STREAMS.COMMANDS.name, {
      durable_name: name,
      filter_subject: commandSubject({ tenant: thing.tenantId, thing: thing.thingId }),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: COMMAND_ACK_WAIT_MS * NS_PER_MS,
      inactive_threshold: COMMAND_CONSUMER_IDLE_MS * NS_PER_MS,
      max_ack_pending: MAX_UNACKNOWLEDGED,
    });
    const consumer = await jsm.jetstream().consumers.get(STREAMS.COMMANDS.name, name);
    return new CommandFeed(await consumer.consume({ max_messages: 16 }));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CommandDelivery> {
    for await (const m of this.#messages) {
      const { commandId, name, payload, expiresAt } = (decodeEvent(m.data) as EventOf<'command.requested'>)
        .data;
      if (Date.parse(expiresAt) <= Date.now()) {
        m.ack();
        continue;
      }
      this.#pending.set(commandId, m);
      yield { id: commandId, name, payload, expiresAt };
    }
  }

  /** The thing acknowledged the command: acked in JetStream. False for a command not pending here. */
  delivered(commandId: string): boolean {
    const m = this.#pending.get(commandId);
    if (!m) return false;
    this.#pending.delete(commandId);
    m.ack();
    return true;
  }

  /** Stops consuming; commands not yet acknowledged go back to the log for the next session. */
  stop(): void {
    void this.#messages.stop();
    for (const m of this.#pending.values()) m.nak();
    this.#pending.clear();
  }
}
