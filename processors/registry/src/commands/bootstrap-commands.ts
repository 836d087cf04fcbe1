import { bootstrapDecider } from '../domain/bootstrap.ts';
import { thingDecider } from '../domain/thing.ts';
import type { ChannelCommands } from './channel-commands.ts';
import { type CommandActor, type CommandHandler, entityRef } from './command-handler.ts';

export interface ConfigureBootstrapCommand {
  thingId: string;
  /** Already trimmed and checked. */
  externalId: string;
  externalKeyHash: string;
  channelIds: readonly string[];
  content: string;
}

export class BootstrapCommands {
  readonly #h: CommandHandler;
  readonly #channels: ChannelCommands;

  constructor(handler: CommandHandler, channels: ChannelCommands) {
    this.#h = handler;
    this.#channels = channels;
  }

  /**
   * What a thing fetches when it bootstraps, under a claim on its external id.
   * @throws RegistryError TAKEN when another thing has the external id.
   */
  async configure(by: CommandActor, command: ConfigureBootstrapCommand): Promise<void> {
    const channelIds = [...new Set(command.channelIds)];
    for (const channelId of channelIds) entityRef(by, 'channel', channelId);
    const { thingId, externalId } = command;
    const ref = entityRef(by, 'bootstrap', thingId, 'thing');
    await this.#h.withClaim('external-id', externalId, thingId, () =>
      this.#h.run(
        bootstrapDecider,
        ref,
        async () => ({
          type: 'configure' as const,
          thing: await this.#h.state(thingDecider, entityRef(by, 'thing', thingId)),
          channels: await Promise.all(channelIds.map((c) => this.#channels.state(by, c))),
          externalId,
          externalKeyHash: command.externalKeyHash,
          content: command.content,
        }),
        by,
      ),
    );
  }

  async remove(by: CommandActor, thingId: string): Promise<void> {
    await this.#h.run(
      bootstrapDecider,
      entityRef(by, 'bootstrap', thingId, 'bootstrap config of thing'),
      { type: 'remove', thingId },
      by,
    );
  }
}
