import Type from 'typebox';
import { MAX_THING_RATE_BURST, MAX_THING_RATE_PER_SECOND } from '../credentials/thing-credential.ts';
import { data, defineEvent, Id, KeyHash, Metadata, Name, PasswordHash, Timestamp } from './common.ts';
import { KAFKA_EVENTS } from './kafka.ts';
import { MODEL_EVENTS } from './models.ts';
import { RULE_EVENTS } from './rules.ts';

/**
 * Registry events: every state change of tenants, users, things, channels, API keys and
 * bootstrap configs. They live in the REGISTRY stream on `reg.<tenant>.<kind>.<id>` (see
 * subject.ts) and never expire: the registry read models are rebuilt from them.
 */

/** Roles a user can hold within a tenant, from most to least powerful. */
export const USER_ROLES = ['owner', 'admin', 'operator', 'analyst', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];
const Role = Type.Enum(USER_ROLES);

const Email = Type.String({ format: 'email', maxLength: 254 });

// Tenants — the envelope's tenantId is the tenant itself.

export const TenantCreated = defineEvent('tenant.created', 1, data({ name: Name }), 'A tenant was created.');
export const TenantRenamed = defineEvent(
  'tenant.renamed',
  1,
  data({ name: Name }),
  'A tenant got a new name.',
);
export const TenantDeleted = defineEvent(
  'tenant.deleted',
  1,
  data({}),
  'A tenant was deleted, with everything it owned.',
);

// Users

export const UserRegistered = defineEvent(
  'user.registered',
  1,
  data({
    userId: Id,
    email: Email,
    passwordHash: PasswordHash,
    roles: Type.Array(Role, { uniqueItems: true }),
  }),
  'A user account was created in the tenant.',
);
export const UserRoleGranted = defineEvent(
  'user.role-granted',
  1,
  data({ userId: Id, role: Role }),
  'A user was given a role.',
);
export const UserRoleRevoked = defineEvent(
  'user.role-revoked',
  1,
  data({ userId: Id, role: Role }),
  'A role was taken from a user.',
);
export const UserPasswordChanged = defineEvent(
  'user.password-changed',
  1,
  data({ userId: Id, passwordHash: PasswordHash }),
  "A user's password was changed (its hash only).",
);
export const UserDeleted = defineEvent(
  'user.deleted',
  1,
  data({ userId: Id }),
  'A user account was deleted.',
);

// Things

export const ThingCreated = defineEvent(
  'thing.created',
  1,
  data({ thingId: Id, name: Name, keyHash: KeyHash, metadata: Metadata }),
  'A thing (device) was provisioned, enabled. Carries the hash of its key, never the key.',
);
export const ThingUpdated = defineEvent(
  'thing.updated',
  1,
  data({ thingId: Id, name: Type.Optional(Name), metadata: Type.Optional(Metadata) }, { minProperties: 2 }),
  "A thing's name and/or metadata changed; fields present are the new values.",
);
export const ThingKeyRotated = defineEvent(
  'thing.key-rotated',
  1,
  data({ thingId: Id, keyHash: KeyHash }),
  'A thing got a new key; the old one stops working.',
);
export const ThingEnabled = defineEvent(
  'thing.enabled',
  1,
  data({ thingId: Id }),
  'A thing may connect again.',
);
export const ThingDisabled = defineEvent(
  'thing.disabled',
  1,
  data({ thingId: Id }),
  'A thing may no longer connect or publish.',
);
export const ThingRateLimitSet = defineEvent(
  'thing.rate-limit-set',
  1,
  data({
    thingId: Id,
    perSecond: Type.Number({ exclusiveMinimum: 0, maximum: MAX_THING_RATE_PER_SECOND }),
    burst: Type.Integer({ minimum: 1, maximum: MAX_THING_RATE_BURST }),
  }),
  "A thing got its own rate limit (messages per second and burst), replacing the deployment's for it.",
);
export const ThingRateLimitCleared = defineEvent(
  'thing.rate-limit-cleared',
  1,
  data({ thingId: Id }),
  "A thing's own rate limit was removed: the deployment's applies again.",
);
export const ThingDeleted = defineEvent('thing.deleted', 1, data({ thingId: Id }), 'A thing was deleted.');
export const ThingConnected = defineEvent(
  'thing.connected',
  1,
  data({ thingId: Id, channelId: Id }),
  'A thing may now publish to and subscribe on a channel.',
);
export const ThingDisconnected = defineEvent(
  'thing.disconnected',
  1,
  data({ thingId: Id, channelId: Id }),
  'A thing may no longer use a channel.',
);

// Channels

export const ChannelCreated = defineEvent(
  'channel.created',
  1,
  data({ channelId: Id, name: Name, metadata: Metadata }),
  'A channel was created.',
);
export const ChannelUpdated = defineEvent(
  'channel.updated',
  1,
  data({ channelId: Id, name: Type.Optional(Name), metadata: Type.Optional(Metadata) }, { minProperties: 2 }),
  "A channel's name and/or metadata changed; fields present are the new values.",
);
export const ChannelDeleted = defineEvent(
  'channel.deleted',
  1,
  data({ channelId: Id }),
  'A channel was deleted; every thing is disconnected from it.',
);

// API keys

export const ApiKeyCreated = defineEvent(
  'apikey.created',
  1,
  data({
    apikeyId: Id,
    name: Name,
    keyHash: KeyHash,
    role: Role,
    expiresAt: Type.Optional(Timestamp),
  }),
  'An API key for the GraphQL API was issued (its hash only).',
);
export const ApiKeyRevoked = defineEvent(
  'apikey.revoked',
  1,
  data({ apikeyId: Id }),
  'An API key was revoked.',
);

// Bootstrap (Mainflux-style: a device fetches its id, key and config by external id/key)

export const BootstrapConfigured = defineEvent(
  'bootstrap.configured',
  1,
  data({
    thingId: Id,
    externalId: Type.String({ minLength: 1, maxLength: 256 }),
    externalKeyHash: KeyHash,
    channels: Type.Array(Id, { uniqueItems: true }),
    content: Type.String({ maxLength: 65536, description: 'config handed to the device as is' }),
  }),
  'A bootstrap config was set for a thing (replaces any previous one).',
);
export const BootstrapRemoved = defineEvent(
  'bootstrap.removed',
  1,
  data({ thingId: Id, externalId: Type.String({ minLength: 1, maxLength: 256 }) }),
  "A thing's bootstrap config was removed.",
);

/** Registry event schemas by type. */
export const REGISTRY_EVENTS = {
  'tenant.created': TenantCreated,
  'tenant.renamed': TenantRenamed,
  'tenant.deleted': TenantDeleted,
  'user.registered': UserRegistered,
  'user.role-granted': UserRoleGranted,
  'user.role-revoked': UserRoleRevoked,
  'user.password-changed': UserPasswordChanged,
  'user.deleted': UserDeleted,
  'thing.created': ThingCreated,
  'thing.updated': ThingUpdated,
  'thing.key-rotated': ThingKeyRotated,
  'thing.enabled': ThingEnabled,
  'thing.disabled': ThingDisabled,
  'thing.rate-limit-set': ThingRateLimitSet,
  'thing.rate-limit-cleared': ThingRateLimitCleared,
  'thing.deleted': ThingDeleted,
  'thing.connected': ThingConnected,
  'thing.disconnected': ThingDisconnected,
  'channel.created': ChannelCreated,
  'channel.updated': ChannelUpdated,
  'channel.deleted': ChannelDeleted,
  'apikey.created': ApiKeyCreated,
  'apikey.revoked': ApiKeyRevoked,
  'bootstrap.configured': BootstrapConfigured,
  'bootstrap.removed': BootstrapRemoved,
  ...RULE_EVENTS,
  ...MODEL_EVENTS,
  ...KAFKA_EVENTS,
} as const;
