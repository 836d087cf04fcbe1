import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventData } from '@telly/schemas';
import { apiKeyDecider } from './apikey.ts';
import { bootstrapDecider } from './bootstrap.ts';
import { type ChannelState, channelDecider } from './channel.ts';
import type { Decider, EventDraft, RegistryEvent, RegistryEventType } from './decider.ts';
import { isRegistryError, type RegistryErrorCode } from './errors.ts';
import { thingDecider } from './thing.ts';
import { userDecider } from './user.ts';

const THING = '0191e5a0-0000-7000-8000-000000000001';
const CHANNEL = '0191e5a0-0000-7000-8000-000000000002';
const USER = '0191e5a0-0000-7000-8000-000000000003';
const KEY1 = `sha256:${'1'.repeat(64)}`;
const KEY2 = `sha256:${'2'.repeat(64)}`;

/** An event of the history, with only what evolve reads. */
function ev<T extends RegistryEventType>(type: T, data: EventData<T>): RegistryEvent {
  return { type, data } as unknown as RegistryEvent;
}

/** given(history).when(command).expect(events) | .fails(code) */
function given<C, S>(decider: Decider<C, S>, history: RegistryEvent[]) {
  const state = history.reduce(decider.evolve, decider.initialState());
  return {
    state,
    when: (command: C) => ({
      expect: (expected: EventDraft[]) => assert.deepEqual(decider.decide(command, state), expected),
      fails: (code: RegistryErrorCode) =>
        assert.throws(
          () => decider.decide(command, state),
          (err) => isRegistryError(err) && err.code === code,
        ),
    }),
  };
}

const created = ev('thing.created', {
  thingId: THING,
  name: 'soil-1',
  metadata: { room: 'a' },
  keyHash: KEY1,
});
const channel: ChannelState = { status: 'active', channelId: CHANNEL, name: 'greenhouse', metadata: {} };

describe('thing decider', () => {
  it('creates once', () => {
    given(thingDecider, [])
      .when({ type: 'create', thingId: THING, name: 'soil-1', metadata: {}, keyHash: KEY1 })
      .expect([
        { type: 'thing.created', data: { thingId: THING, name: 'soil-1', metadata: {}, keyHash: KEY1 } },
      ]);
    given(thingDecider, [created])
      .when({ type: 'create', thingId: THING, name: 'x', metadata: {}, keyHash: KEY1 })
      .fails('ALREADY_EXISTS');
  });

  it('updates only what changed, and nothing when nothing changed', () => {
    given(thingDecider, [created])
      .when({ type: 'update', thingId: THING, name: 'soil-1', metadata: { room: 'b' } })
      .expect([{ type: 'thing.updated', data: { thingId: THING, metadata: { room: 'b' } } }]);
    given(thingDecider, [created])
      .when({ type: 'update', thingId: THING, name: 'soil-1', metadata: { room: 'a' } })
      .expect([]);
  });

  it('refuses every command on an absent or deleted thing with NOT_FOUND', () => {
    const deleted = [created, ev('thing.deleted', { thingId: THING })];
    for (const history of [[], deleted]) {
      given(thingDecider, history)
        .when({ type: 'rotate-key', thingId: THING, keyHash: KEY2 })
        .fails('NOT_FOUND');
      given(thingDecider, history).when({ type: 'delete', thingId: THING }).fails('NOT_FOUND');
      given(thingDecider, history).when({ type: 'connect', thingId: THING, channel }).fails('NOT_FOUND');
    }
  });

  it('connects to an existing channel once; disconnect of an unconnected channel is a no-op', () => {
    given(thingDecider, [created])
      .when({ type: 'connect', thingId: THING, channel })
      .expect([{ type: 'thing.connected', data: { thingId: THING, channelId: CHANNEL } }]);
    const connected = ev('thing.connected', { thingId: THING, channelId: CHANNEL });
    given(thingDecider, [created, connected]).when({ type: 'connect', thingId: THING, channel }).expect([]);
    given(thingDecider, [created])
      .when({ type: 'connect', thingId: THING, channel: { ...channel, status: 'deleted' } })
      .fails('NOT_FOUND');
    given(thingDecider, [created])
      .when({ type: 'disconnect', thingId: THING, channelId: CHANNEL })
      .expect([]);
    given(thingDecider, [created, connected])
      .when({ type: 'disconnect', thingId: THING, channelId: CHANNEL })
      .expect([{ type: 'thing.disconnected', data: { thingId: THING, channelId: CHANNEL } }]);
  });

  it('enables and disables idempotently; a rotated key is in the state', () => {
    given(thingDecider, [created]).when({ type: 'enable', thingId: THING }).expect([]);
    given(thingDecider, [created])
      .when({ type: 'disable', thingId: THING })
      .expect([{ type: 'thing.disabled', data: { thingId: THING } }]);
    const { state } = given(thingDecider, [
      created,
      ev('thing.key-rotated', { thingId: THING, keyHash: KEY2 }),
    ]);
    assert.equal(state.keyHash, KEY2);
  });

  it('sets and clears its own rate limit, appending nothing when it is already so', () => {
    const limit = { perSecond: 1000, burst: 2000 };
    const set = ev('thing.rate-limit-set', { thingId: THING, ...limit });
    given(thingDecider, [created])
      .when({ type: 'set-rate-limit', thingId: THING, rateLimit: limit })
      .expect([{ type: 'thing.rate-limit-set', data: { thingId: THING, ...limit } }]);
    given(thingDecider, [created, set])
      .when({ type: 'set-rate-limit', thingId: THING, rateLimit: { ...limit } })
      .expect([]);
    given(thingDecider, [created, set])
      .when({ type: 'set-rate-limit', thingId: THING, rateLimit: { ...limit, burst: 3000 } })
      .expect([{ type: 'thing.rate-limit-set', data: { thingId: THING, ...limit, burst: 3000 } }]);
    given(thingDecider, [created, set])
      .when({ type: 'set-rate-limit', thingId: THING, rateLimit: null })
      .expect([{ type: 'thing.rate-limit-cleared', data: { thingId: THING } }]);
    given(thingDecider, [created])
      .when({ type: 'set-rate-limit', thingId: THING, rateLimit: null })
      .expect([]);
    given(thingDecider, [created, ev('thing.deleted', { thingId: THING })])
      .when({ type: 'set-rate-limit', thingId: THING, rateLimit: limit })
      .fails('NOT_FOUND');
  });
});

describe('channel decider', () => {
  const chCreated = ev('channel.created', { channelId: CHANNEL, name: 'greenhouse', metadata: {} });
  it('creates, renames, deletes, then knows it no more', () => {
    given(channelDecider, [chCreated])
      .when({ type: 'update', channelId: CHANNEL, name: 'gh' })
      .expect([{ type: 'channel.updated', data: { channelId: CHANNEL, name: 'gh' } }]);
    given(channelDecider, [chCreated, ev('channel.deleted', { channelId: CHANNEL })])
      .when({ type: 'update', channelId: CHANNEL, name: 'gh' })
      .fails('NOT_FOUND');
  });
});

describe('user decider', () => {
  const registered = ev('user.registered', {
    userId: USER,
    email: 'ana@example.com',
    passwordHash: '$argon2id$x',
    roles: ['owner'],
  });
  it('changes a role by granting the new one and revoking the old', () => {
    given(userDecider, [registered])
      .when({ type: 'set-role', userId: USER, role: 'viewer', otherOwners: 1 })
      .expect([
        { type: 'user.role-granted', data: { userId: USER, role: 'viewer' } },
        { type: 'user.role-revoked', data: { userId: USER, role: 'owner' } },
      ]);
  });
  it('never leaves a tenant without an owner', () => {
    given(userDecider, [registered])
      .when({ type: 'set-role', userId: USER, role: 'admin', otherOwners: 0 })
      .fails('NOT_ALLOWED');
    given(userDecider, [registered])
      .when({ type: 'delete', userId: USER, otherOwners: 0 })
      .fails('NOT_ALLOWED');
  });
});

describe('api key and bootstrap deciders', () => {
  it('revokes an API key once', () => {
    const made = ev('apikey.created', { apikeyId: USER, name: 'script', keyHash: KEY1, role: 'analyst' });
    given(apiKeyDecider, [made])
      .when({ type: 'revoke', apikeyId: USER })
      .expect([{ type: 'apikey.revoked', data: { apikeyId: USER } }]);
    given(apiKeyDecider, [made, ev('apikey.revoked', { apikeyId: USER })])
      .when({ type: 'revoke', apikeyId: USER })
      .expect([]);
    given(apiKeyDecider, []).when({ type: 'revoke', apikeyId: USER }).fails('NOT_FOUND');
  });

  it('configures bootstrap only for a live thing and live channels', () => {
    const thing = given(thingDecider, [created]).state;
    const command = {
      type: 'configure',
      thing,
      externalId: 'aa:bb',
      externalKeyHash: KEY2,
      content: '{}',
    } as const;
    given(bootstrapDecider, [])
      .when({ ...command, channels: [channel] })
      .expect([
        {
          type: 'bootstrap.configured',
          data: {
            thingId: THING,
            externalId: 'aa:bb',
            externalKeyHash: KEY2,
            channels: [CHANNEL],
            content: '{}',
          },
        },
      ]);
    given(bootstrapDecider, [])
      .when({ ...command, channels: [{ ...channel, status: 'absent' }] })
      .fails('NOT_FOUND');
  });
});
