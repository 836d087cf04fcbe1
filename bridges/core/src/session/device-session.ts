import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger, Publisher } from '@telly/runtime';
import type { OfflineReason, Protocol, TellyEvent, ThingCredential } from '@telly/schemas';
import type { Accepted, Ingest, IngestMessage } from '../ingest.ts';
import { IngestError } from '../ingest-error.ts';
import { recordEvent } from '../record-event.ts';
import type { CommandDelivery } from './command-delivery.ts';
import { CommandFeed } from './command-feed.ts';
import type { CommandOutcome } from './command-outcome.ts';
import { deliveredEvent, offlineEvent, resultEvent } from './session-events.ts';

/** A device message as a session publishes it: the thing is the session's. */
export type SessionMessage = Omit<IngestMessage, 'thing'>;

/** Which command a result is about, as the device addressed it (MQTT: the topic's levels). */
export interface CommandTarget {
  thingId: string;
  commandId: string;
}

/** What a session needs from the bridge that opened it. */
export interface SessionContext {
  ingest: Ingest;
  jsm: JetStreamManager;
  publisher: Publisher;
  logger: Logger;
  /** Called once, when the session closes. */
  closed: (session: DeviceSession) => void;
}

/**
 * One authenticated device connection, whatever the protocol: it publishes as its thing, feeds
 * it its commands, records the results it reports (only for its own thing) and its presence.
 * Opened by `DeviceSessions.open`; closed by the bridge when the connection ends, or by
 * `DeviceSessions` when the thing's credential is revoked or changed.
 */
export class DeviceSession {
  #thing: ThingCredential;
  /** Hash of the key the session was opened with: a change to its entry ends the session. */
  readonly keyHash: string;
  readonly remoteAddress: string;
  readonly #context: SessionContext;
  #lastSeenAt = Date.now();
  #feed: CommandFeed | undefined;
  #closed = false;

  constructor(context: SessionContext, thing: ThingCredential, keyHash: string, remoteAddress: string) {
    this.#context = context;
    this.#thing = thing;
    this.keyHash = keyHash;
    this.remoteAddress = remoteAddress;
  }

  /** The thing's credential: as opened, or its latest that kept the session ({@link DeviceSession.refresh}). */
  get thing(): ThingCredential {
    return this.#thing;
  }

  /**
   * Takes the thing's changed credential when `sameAccess` keeps the session, so a new rate limit
   * or a channel connected meanwhile applies to the open session at once.
   */
  refresh(next: ThingCredential): void {
    this.#thing = next;
  }

  get protocol(): Protocol {
    return this.#context.ingest.protocol;
  }

  /** When the device was last heard from (opened, published, acknowledged or reported), ms since the epoch. */
  get lastSeenAt(): number {
    return this.#lastSeenAt;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Publishes as this session's thing; see `Ingest.publish`. */
  publish(message: SessionMessage): Promise<Accepted> {
    this.#seen();
    return this.#context.ingest.publish({ ...message, thing: this.thing, keyHash: this.keyHash });
  }

  /** Records a publish refused before Ingest saw it (a topic that names no channel); returns `error`. */
  reject(error: IngestError, channelId?: string): IngestError {
    return this.#context.ingest.reject(this.thing, channelId, error);
  }

  /** True when the thing may read (and publish to) the channel. */
  connectedTo(channelId: string): boolean {
    return this.thing.channels.includes(channelId);
  }

  /**
   * Starts the thing's command downlink (ending one already running): resolves once it is
   * consuming, with the commands to hand to the device. Acknowledge each with {@link delivered}.
   */
  async commands(): Promise<AsyncIterable<CommandDelivery>> {
    this.stopCommands();
    const feed = await CommandFeed.start(this.#context.jsm, this.thing);
    // closed meanwhile, or started again: this one yields nothing
    if (this.#closed || this.#feed !== undefined) feed.stop();
    else this.#feed = feed;
    return feed;
  }

  /** The device acknowledged a command: acked in the log and recorded `command.delivered`. */
  delivered(commandId: string): void {
    if (!this.#feed?.delivered(commandId)) return;
    this.#seen();
    this.#record(deliveredEvent(this.thing, commandId, this.protocol), `delivered:${commandId}`);
  }

  /** Ends the downlink: commands not yet acknowledged go back for the next session. */
  stopCommands(): void {
    this.#feed?.stop();
    this.#feed = undefined;
  }

  /**
   * Records a command's outcome as the device reported it. Only for the session's own thing: a
   * result addressed to another thing is refused (`forbidden`), so no device can settle another's
   * command; an outcome that cannot be recorded is refused as `invalid-payload`. A refusal is
   * recorded as rejected and answered false. The recorded event names the session's own tenant and
   * thing, even for another thing's command id reported on the device's own topic: it is the
   * projection's to match a result with the thing its command addressed.
   */
  reportResult(target: CommandTarget, outcome: CommandOutcome): boolean {
    const { commandId } = target;
    if (target.thingId !== this.thing.thingId) {
      this.reject(
        new IngestError(
          'forbidden',
          `a result for command ${commandId} of another thing (${target.thingId})`,
        ),
      );
      return false;
    }
    this.#seen();
    let event: TellyEvent;
    try {
      event = resultEvent(this.thing, commandId, outcome);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.reject(
        new IngestError('invalid-payload', `the result of command ${commandId} is not recordable: ${reason}`),
      );
      return false;
    }
    this.#record(event, `result:${commandId}`);
    return true;
  }

  /** Ends the session (idempotent: the first reason is the one recorded in `thing.offline`). */
  close(reason: OfflineReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopCommands();
    this.#record(offlineEvent(this, reason));
    this.#context.closed(this);
  }

  #seen(): void {
    this.#lastSeenAt = Date.now();
  }

  #record(event: TellyEvent, msgId?: string): void {
    recordEvent(this.#context.publisher, this.#context.logger, event, msgId);
  }
}
