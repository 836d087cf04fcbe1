import { type Decider, type EventDraft, sameJson } from './decider.ts';
import { notFound, RegistryError } from './errors.ts';

export interface ChannelState {
  status: 'absent' | 'active' | 'deleted';
  channelId: string;
  name: string;
  metadata: Record<string, unknown>;
}

export type ChannelCommand =
  | { type: 'create'; channelId: string; name: string; metadata: Record<string, unknown> }
  | {
      type: 'update';
      channelId: string;
      name?: string | undefined;
      metadata?: Record<string, unknown> | undefined;
    }
  | { type: 'delete'; channelId: string };

export const channelDecider: Decider<ChannelCommand, ChannelState> = {
  initialState: () => ({ status: 'absent', channelId: '', name: '', metadata: {} }),
  evolve(state, event) {
    switch (event.type) {
      case 'channel.created':
        return {
          status: 'active',
          channelId: event.data.channelId,
          name: event.data.name,
          metadata: event.data.metadata,
        };
      case 'channel.updated':
        return {
          ...state,
          name: event.data.name ?? state.name,
          metadata: event.data.metadata ?? state.metadata,
        };
      case 'channel.deleted':
        return { ...state, status: 'deleted' };
      default:
        return state;
    }
  },
  decide(command, state): EventDraft[] {
    const { channelId } = command;
    if (command.type === 'create') {
      if (state.status !== 'absent') {
        throw new RegistryError('ALREADY_EXISTS', `channel ${channelId} already exists`);
      }
      return [
        { type: 'channel.created', data: { channelId, name: command.name, metadata: command.metadata } },
      ];
    }
    if (state.status !== 'active') throw notFound('channel', channelId);
    if (command.type === 'delete') return [{ type: 'channel.deleted', data: { channelId } }];
    const data: { channelId: string; name?: string; metadata?: Record<string, unknown> } = { channelId };
    if (command.name !== undefined && command.name !== state.name) data.name = command.name;
    if (command.metadata !== undefined && !sameJson(command.metadata, state.metadata)) {
      data.metadata = command.metadata;
    }
    return Object.keys(data).length > 1 ? [{ type: 'channel.updated', data }] : [];
  },
};
