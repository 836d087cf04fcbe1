import type { ThingRateLimit } from '@telly/schemas';
import type { ChannelState } from './channel.ts';
import { type Decider, type EventDraft, sameJson } from './decider.ts';
import { notFound, RegistryError } from './errors.ts';

export interface ThingState {
  status: 'absent' | 'active' | 'deleted';
  thingId: string;
  name: string;
  metadata: Record<string, unknown>;
  keyHash: string;
  enabled: boolean;
  channels: ReadonlySet<string>;
  /** The thing's own rate limit; null: the deployment's. */
  rateLimit: ThingRateLimit | null;
}

export type ThingCommand =
  | { type: 'create'; thingId: string; name: string; metadata: Record<string, unknown>; keyHash: string }
  | {
      type: 'update';
      thingId: string;
      name?: string | undefined;
      metadata?: Record<string, unknown> | undefined;
    }
  | { type: 'rotate-key'; thingId: string; keyHash: string }
  | { type: 'enable'; thingId: string }
  | { type: 'disable'; thingId: string }
  | { type: 'delete'; thingId: string }
  /** `rateLimit` null clears the thing's own limit. */
  | { type: 'set-rate-limit'; thingId: string; rateLimit: ThingRateLimit | null }
  /** `channel` is the channel's current state, loaded by the handler (same tenant by construction). */
  | { type: 'connect'; thingId: string; channel: ChannelState }
  | { type: 'disconnect'; thingId: string; channelId: string };

function initialState(): ThingState {
  return {
    status: 'absent',
    thingId: '',
    name: '',
    metadata: {},
    keyHash: '',
    enabled: false,
    channels: new Set(),
    rateLimit: null,
  };
}

function withChannels(state: ThingState, change: (channels: Set<string>) => void): ThingState {
  const channels = new Set(state.channels);
  change(channels);
  return { ...state, channels };
}

export const thingDecider: Decider<ThingCommand, ThingState> = {
  initialState,
  evolve(state, event) {
    switch (event.type) {
      case 'thing.created':
        return {
          status: 'active',
          thingId: event.data.thingId,
          name: event.data.name,
          metadata: event.data.metadata,
          keyHash: event.data.keyHash,
          enabled: true,
          channels: new Set(),
          rateLimit: null,
        };
      case 'thing.updated':
        return {
          ...state,
          name: event.data.name ?? state.name,
          metadata: event.data.metadata ?? state.metadata,
        };
      case 'thing.key-rotated':
        return { ...state, keyHash: event.data.keyHash };
      case 'thing.enabled':
        return { ...state, enabled: true };
      case 'thing.disabled':
        return { ...state, enabled: false };
      case 'thing.rate-limit-set':
        return { ...state, rateLimit: { perSecond: event.data.perSecond, burst: event.data.burst } };
      case 'thing.rate-limit-cleared':
        return { ...state, rateLimit: null };
      case 'thing.deleted':
        return { ...state, status: 'deleted', enabled: false, channels: new Set() };
      case 'thing.connected':
        return withChannels(state, (c) => c.add(event.data.channelId));
      case 'thing.disconnected':
        return withChannels(state, (c) => c.delete(event.data.channelId));
      default:
        return state;
    }
  },
  decide(command, state): EventDraft[] {
    const { thingId } = command;
    if (command.type === 'create') {
      if (state.status !== 'absent')
        throw new RegistryError('ALREADY_EXISTS', `thing ${thingId} already exists`);
      const { name, metadata, keyHash } = command;
      return [{ type: 'thing.created', data: { thingId, name, metadata, keyHash } }];
    }
    if (state.status !== 'active') throw notFound('thing', thingId);
    switch (command.type) {
      case 'update': {
        const data: { thingId: string; name?: string; metadata?: Record<string, unknown> } = { thingId };
        if (command.name !== undefined && command.name !== state.name) data.name = command.name;
        if (command.metadata !== undefined && !sameJson(command.metadata, state.metadata)) {
          data.metadata = command.metadata;
        }
        return Object.keys(data).length > 1 ? [{ type: 'thing.updated', data }] : [];
      }
      case 'rotate-key':
        return [{ type: 'thing.key-rotated', data: { thingId, keyHash: command.keyHash } }];
      case 'enable':
        return state.enabled ? [] : [{ type: 'thing.enabled', data: { thingId } }];
      case 'disable':
        return state.enabled ? [{ type: 'thing.disabled', data: { thingId } }] : [];
      case 'delete':
        return [{ type: 'thing.deleted', data: { thingId } }];
      case 'set-rate-limit': {
        const { rateLimit } = command;
        if (rateLimit === null) {
          return state.rateLimit ? [{ type: 'thing.rate-limit-cleared', data: { thingId } }] : [];
        }
        const { perSecond, burst } = rateLimit;
        if (state.rateLimit?.perSecond === perSecond && state.rateLimit.burst === burst) return [];
        return [{ type: 'thing.rate-limit-set', data: { thingId, perSecond, burst } }];
      }
      case 'connect': {
        const { channel } = command;
        if (channel.status !== 'active') throw notFound('channel', channel.channelId || 'given');
        if (state.channels.has(channel.channelId)) return [];
        return [{ type: 'thing.connected', data: { thingId, channelId: channel.channelId } }];
      }
      case 'disconnect':
        if (!state.channels.has(command.channelId)) return [];
        return [{ type: 'thing.disconnected', data: { thingId, channelId: command.channelId } }];
    }
  },
};
