import type { ThingRateLimit } from '@telly/schemas';
import { v7 } from 'uuid';
import { type ThingCommand, thingDecider } from '../domain/thing.ts';
import type { ChannelCommands } from './channel-commands.ts';
import { type CommandActor, type CommandHandler, entityRef } from './command-handler.ts';

export class ThingCommands {
  readonly #h: CommandHandler;
  readonly #channels: ChannelCommands;

  constructor(handler: CommandHandler, channels: ChannelCommands) {
    this.#h = handler;
    this.#channels = channels;
  }

  /** A new thing of the actor's tenant with the hash of its key; returns its id. */
  async create(
    by: CommandActor,
    input: { name: string; metadata: Record<string, unknown>; keyHash: string },
  ): Promise<string> {
    const thingId = v7();
    await this.#thing(by, thingId, { type: 'create', thingId, ...input });
    return thingId;
  }

  /** Changes what is given; an update that changes nothing appends nothing. */
  async update(
    by: CommandActor,
    thingId: string,
    input: { name?: string | undefined; metadata?: Record<string, unknown> | undefined },
  ): Promise<void> {
    await this.#thing(by, thingId, { type: 'update', thingId, ...input });
  }

  async delete(by: CommandActor, thingId: string): Promise<void> {
    await this.#thing(by, thingId, { type: 'delete', thingId });
  }

  async setEnabled(by: CommandActor, thingId: string, enabled: boolean): Promise<void> {
    await this.#thing(by, thingId, { type: enabled ? 'enable' : 'disable', thingId });
  }

  /** The thing's own rate limit at every bridge; null: the deployment's again. */
  async setRateLimit(by: CommandActor, thingId: string, rateLimit: ThingRateLimit | null): Promise<void> {
    await this.#thing(by, thingId, { type: 'set-rate-limit', thingId, rateLimit });
  }

  /** The thing's key becomes the one hashed to `keyHash`; the old one stops working at every bridge. */
  async rotateKey(by: CommandActor, thingId: string, keyHash: string): Promise<void> {
    await this.#thing(by, thingId, { type: 'rotate-key', thingId, keyHash });
  }

  async connect(by: CommandActor, thingId: string, channelId: string): Promise<void> {
    entityRef(by, 'channel', channelId);
    await this.#h.run(
      thingDecider,
      entityRef(by, 'thing', thingId),
      async () => ({ type: 'connect', thingId, channel: await this.#channels.state(by, channelId) }) as const,
      by,
    );
  }

  async disconnect(by: CommandActor, thingId: string, channelId: string): Promise<void> {
    entityRef(by, 'channel', channelId);
    await this.#thing(by, thingId, { type: 'disconnect', thingId, channelId });
  }

  async #thing(by: CommandActor, thingId: string, command: ThingCommand): Promise<void> {
    await this.#h.run(thingDecider, entityRef(by, 'thing', thingId), command, by);
  }
}
