import type { ChannelState } from './channel.ts';
import type { Decider, EventDraft } from './decider.ts';
import { notFound } from './errors.ts';
import type { ThingState } from './thing.ts';

export interface BootstrapState {
  configured: boolean;
  externalId: string;
}

export type BootstrapCommand =
  | {
      type: 'configure';
      /** The thing's current state, loaded by the handler. */
      thing: ThingState;
      externalId: string;
      externalKeyHash: string;
      /** The channels' current states, loaded by the handler. */
      channels: readonly ChannelState[];
      content: string;
    }
  | { type: 'remove'; thingId: string };

export const bootstrapDecider: Decider<BootstrapCommand, BootstrapState> = {
  initialState: () => ({ configured: false, externalId: '' }),
  evolve(state, event) {
    switch (event.type) {
      case 'bootstrap.configured':
        return { configured: true, externalId: event.data.externalId };
      case 'bootstrap.removed':
        return { configured: false, externalId: '' };
      default:
        return state;
    }
  },
  decide(command, state): EventDraft[] {
    if (command.type === 'remove') {
      if (!state.configured) throw notFound('bootstrap config of thing', command.thingId);
      return [
        { type: 'bootstrap.removed', data: { thingId: command.thingId, externalId: state.externalId } },
      ];
    }
    const { thing } = command;
    if (thing.status !== 'active') throw notFound('thing', thing.thingId || 'given');
    const missing = command.channels.find((c) => c.status !== 'active');
    if (missing) throw notFound('channel', missing.channelId || 'given');
    return [
      {
        type: 'bootstrap.configured',
        data: {
          thingId: thing.thingId,
          externalId: command.externalId,
          externalKeyHash: command.externalKeyHash,
          channels: command.channels.map((c) => c.channelId),
          content: command.content,
        },
      },
    ];
  },
};
