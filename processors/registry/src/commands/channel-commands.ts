import { v7 } from 'uuid';
import { type ChannelState, channelDecider } from '../domain/channel.ts';
import { type CommandActor, type CommandHandler, entityRef } from './command-handler.ts';

export class ChannelCommands {
  readonly #h: CommandHandler;

  constructor(handler: CommandHandler) {
    this.#h = handler;
  }

  /** A new channel of the actor's tenant; returns its id. */
  async create(
    by: CommandActor,
    input: { name: string; metadata: Record<string, unknown> },
  ): Promise<string> {
    const channelId = v7();
    await this.#h.run(
      channelDecider,
      entityRef(by, 'channel', channelId),
      { type: 'create', channelId, ...input },
      by,
    );
    return channelId;
  }

  /** Changes what is given; an update that changes nothing appends nothing. */
  async update(
    by: CommandActor,
    channelId: string,
    input: { name?: string | undefined; metadata?: Record<string, unknown> | undefined },
  ): Promise<void> {
    await this.#h.run(
      channelDecider,
      entityRef(by, 'channel', channelId),
      { type: 'update', channelId, ...input },
      by,
    );
  }

  async delete(by: CommandActor, channelId: string): Promise<void> {
    await this.#h.run(channelDecider, entityRef(by, 'channel', channelId), { type: 'delete', channelId }, by);
  }

  /** A channel's current state from its history, for commands of other entities that name it. */
  async state(by: CommandActor, channelId: string): Promise<ChannelState> {
    const state = await this.#h.state(channelDecider, entityRef(by, 'channel', channelId));
    return { ...state, channelId };
  }
}
