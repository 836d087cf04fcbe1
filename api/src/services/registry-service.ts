import {
  apiKeyDecider,
  bootstrapDecider,
  type ChannelState,
  channelDecider,
  claim,
  type HandleResult,
  type ProjectionWaiter,
  type RegistryStore,
  releaseClaim,
  tenantDecider,
  thingDecider,
  userDecider,
} from '@telly/registry';
import type { RegistryKind } from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../auth/password.ts';
import type { Principal } from '../auth/principal.ts';
import { atLeast, type Role } from '../auth/roles.ts';
import { keyHash, newApiKey, newThingKey, safeEqual } from '../auth/secrets.ts';
import { ApiError, invalid, notFound } from '../errors.ts';
import {
  isId,
  MAX_BOOTSTRAP_CONTENT_BYTES,
  MAX_EXTERNAL_ID_LENGTH,
  validEmail,
  validMetadata,
  validName,
} from './validate.ts';

export interface ThingInput {
  name?: string | null | undefined;
  metadata?: unknown;
}

export interface BootstrapInput {
  thingId: string;
  externalId: string;
  externalKey: string;
  channelIds: readonly string[];
  content: string;
}

export interface BootstrapAnswer {
  thingId: string;
  thingKey: string;
  channels: { id: string; name: string; metadata: unknown }[];
  content: string;
}

/**
 * Registry commands as the API offers them: validates input, decides against the entity's
 * history in REGISTRY, appends, and returns once the read model shows the change
 * (read-your-writes). Every entity is addressed within the caller's tenant, so another tenant's
 * id is simply not found.
 */
export class RegistryService {
  readonly #store: RegistryStore;
  readonly #waiter: ProjectionWaiter;
  readonly #pool: pg.Pool;

  constructor(store: RegistryStore, waiter: ProjectionWaiter, pool: pg.Pool) {
    this.#store = store;
    this.#waiter = waiter;
    this.#pool = pool;
  }

  // --- tenants and users

  async signup(input: { email: string; password: string; tenantName: string }): Promise<{
    userId: string;
    tenantId: string;
  }> {
    const email = validEmail('input.email', input.email);
    const tenantName = validName('input.tenantName', input.tenantName);
    const passwordHash = await this.#passwordHash('input.password', input.password, email);
    const tenantId = v7();
    const userId = v7();
    await this.#withClaim('email', email, userId, async () => {
      await this.#store.handle(tenantDecider, ref(tenantId, 'tenant', tenantId), {
        type: 'create',
        tenantId,
        name: tenantName,
      });
      return this.#store.handle(
        userDecider,
        ref(tenantId, 'user', userId),
        { type: 'register', userId, email, passwordHash, role: 'owner' },
        { actor: userId },
      );
    });
    return { userId, tenantId };
  }

  async inviteUser(p: Principal, input: { email: string; password: string; role: Role }): Promise<string> {
    this.#assertMayGrant(p, input.role);
    const email = validEmail('input.email', input.email);
    const passwordHash = await this.#passwordHash('input.password', input.password, email);
    const userId = v7();
    await this.#withClaim('email', email, userId, () =>
      this.#store.handle(
        userDecider,
        ref(p.tenantId, 'user', userId),
        { type: 'register', userId, email, passwordHash, role: input.role },
        { actor: p.actor },
      ),
    );
    return userId;
  }

  async setUserRole(p: Principal, userId: string, role: Role): Promise<void> {
    this.#assertMayGrant(p, role);
    const current = await this.#userRole(p, userId);
    this.#assertMayGrant(p, current); // an admin cannot demote an owner
    await this.#commit(
      this.#store.handle(
        userDecider,
        ref(p.tenantId, 'user', id(userId, 'user')),
        { type: 'set-role', userId, role, otherOwners: await this.#otherOwners(p.tenantId, userId) },
        { actor: p.actor },
      ),
    );
  }

  async deleteUser(p: Principal, userId: string): Promise<void> {
    this.#assertMayGrant(p, await this.#userRole(p, userId));
    await this.#commit(
      this.#store.handle(
        userDecider,
        ref(p.tenantId, 'user', id(userId, 'user')),
        { type: 'delete', userId, otherOwners: await this.#otherOwners(p.tenantId, userId) },
        { actor: p.actor },
      ),
    );
  }

  async changePassword(p: Principal, currentPassword: string, newPassword: string): Promise<void> {
    if (p.kind !== 'user') throw new ApiError('FORBIDDEN', 'only a Telly user has a password to change');
    const { rows } = await this.#pool.query<{ email: string; password_hash: string }>(
      'SELECT email, password_hash FROM users WHERE id = $1 AND tenant_id = $2',
      [p.id, p.tenantId],
    );
    const user = rows[0];
    if (!user || !(await verifyPassword(currentPassword, user.password_hash))) {
      throw new ApiError('INVALID_CREDENTIALS', 'the current password is wrong');
    }
    const passwordHash = await this.#passwordHash('newPassword', newPassword, user.email);
    await this.#commit(
      this.#store.handle(
        userDecider,
        ref(p.tenantId, 'user', p.id),
        { type: 'change-password', userId: p.id, passwordHash },
        { actor: p.actor },
      ),
    );
  }

  async renameTenant(p: Principal, name: string): Promise<void> {
    const tenantName = validName('name', name);
    await this.#commit(
      this.#store.handle(
        tenantDecider,
        ref(p.tenantId, 'tenant', p.tenantId),
        { type: 'rename', tenantId: p.tenantId, name: tenantName },
        { actor: p.actor },
      ),
    );
  }

  // --- channels

  async createChannel(p: Principal, input: ThingInput): Promise<string> {
    const channelId = v7();
    await this.#commit(
      this.#store.handle(
        channelDecider,
        ref(p.tenantId, 'channel', channelId),
        {
          type: 'create',
          channelId,
          name: validName('input.name', input.name ?? ''),
          metadata: validMetadata('input.metadata', input.metadata ?? {}),
        },
        { actor: p.actor },
      ),
    );
    return channelId;
  }

  async updateChannel(p: Principal, channelId: string, input: ThingInput): Promise<void> {
    await this.#commit(
      this.#store.handle(
        channelDecider,
        ref(p.tenantId, 'channel', id(channelId, 'channel')),
        {
          type: 'update',
          channelId,
          name: input.name == null ? undefined : validName('input.name', input.name),
          metadata: input.metadata == null ? undefined : validMetadata('input.metadata', input.metadata),
        },
        { actor: p.actor },
      ),
    );
  }

  async deleteChannel(p: Principal, channelId: string): Promise<void> {
    await this.#commit(
      this.#store.handle(
        channelDecider,
        ref(p.tenantId, 'channel', id(channelId, 'channel')),
        { type: 'delete', channelId },
        { actor: p.actor },
      ),
    );
  }

  // --- things

  async createThing(
    p: Principal,
    input: ThingInput & { externalId?: string | null | undefined; externalKey?: string | null | undefined },
  ): Promise<{ thingId: string; key: string }> {
    const name = validName('input.name', input.name ?? '');
    const metadata = validMetadata('input.metadata', input.metadata ?? {});
    const external = input.externalId ?? input.externalKey;
    if (external != null && (input.externalId == null || input.externalKey == null)) {
      throw invalid('input.externalKey', 'externalId and externalKey go together');
    }
    const thingId = v7();
    const key = newThingKey();
    await this.#commit(
      this.#store.handle(
        thingDecider,
        ref(p.tenantId, 'thing', thingId),
        { type: 'create', thingId, name, metadata, keyHash: keyHash(key) },
        { actor: p.actor },
      ),
    );
    if (input.externalId != null && input.externalKey != null) {
      await this.configureBootstrap(p, {
        thingId,
        externalId: input.externalId,
        externalKey: input.externalKey,
        channelIds: [],
        content: '',
      });
    }
    return { thingId, key };
  }

  async updateThing(p: Principal, thingId: string, input: ThingInput): Promise<void> {
    await this.#thing(p, thingId, {
      type: 'update',
      thingId,
      name: input.name == null ? undefined : validName('input.name', input.name),
      metadata: input.metadata == null ? undefined : validMetadata('input.metadata', input.metadata),
    });
  }

  async deleteThing(p: Principal, thingId: string): Promise<void> {
    await this.#thing(p, thingId, { type: 'delete', thingId });
  }

  async setThingEnabled(p: Principal, thingId: string, enabled: boolean): Promise<void> {
    await this.#thing(p, thingId, { type: enabled ? 'enable' : 'disable', thingId });
  }

  /** A new key for the thing; the old one stops working at every bridge. */
  async rotateThingKey(p: Principal, thingId: string): Promise<string> {
    const key = newThingKey();
    await this.#thing(p, thingId, { type: 'rotate-key', thingId, keyHash: keyHash(key) });
    return key;
  }

  async connect(p: Principal, thingId: string, channelId: string): Promise<void> {
    id(channelId, 'channel');
    await this.#commit(
      this.#store.handle(
        thingDecider,
        ref(p.tenantId, 'thing', id(thingId, 'thing')),
        async () =>
          ({ type: 'connect', thingId, channel: await this.#channel(p.tenantId, channelId) }) as const,
        { actor: p.actor },
      ),
    );
  }

  async disconnect(p: Principal, thingId: string, channelId: string): Promise<void> {
    id(channelId, 'channel');
    await this.#thing(p, thingId, { type: 'disconnect', thingId, channelId });
  }

  // --- bootstrap

  async configureBootstrap(p: Principal, input: BootstrapInput): Promise<void> {
    const externalId = input.externalId.trim();
    if (externalId.length === 0 || externalId.length > MAX_EXTERNAL_ID_LENGTH) {
      throw invalid('input.externalId', `must be 1 to ${MAX_EXTERNAL_ID_LENGTH} characters`);
    }
    if (input.externalKey.length < 8 || input.externalKey.length > 256) {
      throw invalid('input.externalKey', 'must be 8 to 256 characters');
    }
    if (Buffer.byteLength(input.content) > MAX_BOOTSTRAP_CONTENT_BYTES) {
      throw invalid('input.content', `must be at most ${MAX_BOOTSTRAP_CONTENT_BYTES} bytes`);
    }
    const channelIds = [...new Set(input.channelIds)];
    for (const channelId of channelIds) id(channelId, 'channel');
    const thingId = id(input.thingId, 'thing');
    await this.#withClaim('external-id', externalId, thingId, () =>
      this.#store.handle(
        bootstrapDecider,
        ref(p.tenantId, 'bootstrap', thingId),
        async () => ({
          type: 'configure' as const,
          thing: (await this.#store.load(thingDecider, ref(p.tenantId, 'thing', thingId))).state,
          channels: await Promise.all(channelIds.map((c) => this.#channel(p.tenantId, c))),
          externalId,
          externalKeyHash: keyHash(input.externalKey),
          content: input.content,
        }),
        { actor: p.actor },
      ),
    );
  }

  async removeBootstrap(p: Principal, thingId: string): Promise<void> {
    await this.#commit(
      this.#store.handle(
        bootstrapDecider,
        ref(p.tenantId, 'bootstrap', id(thingId, 'bootstrap config of thing')),
        { type: 'remove', thingId },
        { actor: p.actor },
      ),
    );
  }

  /**
   * What a device fetches with its external id and key. The log keeps only hashes of thing keys,
   * so the thing gets a fresh key here (the previous one stops working): bootstrapping is how a
   * device obtains its credentials, each time it needs them.
   */
  async bootstrap(externalId: string, externalKey: string): Promise<BootstrapAnswer | undefined> {
    const { rows } = await this.#pool.query<{
      thing_id: string;
      tenant_id: string;
      external_key_hash: string;
      channels: string[];
      content: string;
    }>(
      `SELECT b.thing_id, b.tenant_id, b.external_key_hash, b.channels::text[] AS channels, b.content
       FROM bootstrap_configs b JOIN things t ON t.id = b.thing_id AND t.enabled
       WHERE b.external_id = $1`,
      [externalId],
    );
    const config = rows.find((row) => safeEqual(row.external_key_hash, keyHash(externalKey)));
    if (!config) return undefined;
    const system: Principal = {
      kind: 'user',
      tenantId: config.tenant_id,
      role: 'operator',
      id: config.thing_id,
      actor: 'system',
    };
    const thingKey = await this.rotateThingKey(system, config.thing_id);
    const channels = await this.#pool.query<{ id: string; name: string; metadata: unknown }>(
      'SELECT id, name, metadata FROM channels WHERE id = ANY($1::uuid[]) AND tenant_id = $2 ORDER BY id',
      [config.channels, config.tenant_id],
    );
    return { thingId: config.thing_id, thingKey, channels: channels.rows, content: config.content };
  }

  // --- API keys

  async createApiKey(
    p: Principal,
    input: { name: string; role: Role; expiresAt?: Date | null | undefined },
  ): Promise<{ apikeyId: string; key: string }> {
    this.#assertMayGrant(p, input.role);
    const name = validName('input.name', input.name);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw invalid('input.expiresAt', 'must be in the future');
    }
    const apikeyId = v7();
    const key = newApiKey(apikeyId);
    await this.#commit(
      this.#store.handle(
        apiKeyDecider,
        ref(p.tenantId, 'apikey', apikeyId),
        {
          type: 'create',
          apikeyId,
          name,
          keyHash: keyHash(key),
          role: input.role,
          expiresAt: input.expiresAt?.toISOString(),
        },
        { actor: p.actor },
      ),
    );
    return { apikeyId, key };
  }

  async revokeApiKey(p: Principal, apikeyId: string): Promise<void> {
    await this.#commit(
      this.#store.handle(
        apiKeyDecider,
        ref(p.tenantId, 'apikey', id(apikeyId, 'API key')),
        { type: 'revoke', apikeyId },
        { actor: p.actor },
      ),
    );
  }

  // --- helpers

  async #thing(
    p: Principal,
    thingId: string,
    command: Parameters<typeof thingDecider.decide>[0],
  ): Promise<void> {
    await this.#commit(
      this.#store.handle(thingDecider, ref(p.tenantId, 'thing', id(thingId, 'thing')), command, {
        actor: p.actor,
      }),
    );
  }

  async #channel(tenantId: string, channelId: string): Promise<ChannelState> {
    const { state } = await this.#store.load(channelDecider, ref(tenantId, 'channel', channelId));
    return { ...state, channelId };
  }

  /** Waits until the read model shows what was appended. */
  async #commit(result: Promise<HandleResult>): Promise<void> {
    const { events, seq } = await result;
    if (events.length > 0) await this.#waiter.waitFor(seq);
  }

  /** Appends under a claim on a value unique across tenants, releasing it if the append fails. */
  async #withClaim(
    kind: 'email' | 'external-id',
    value: string,
    ownerId: string,
    append: () => Promise<HandleResult>,
  ): Promise<void> {
    if (!(await claim(this.#pool, kind, value, ownerId))) {
      throw kind === 'email'
        ? new ApiError('EMAIL_TAKEN', 'an account with this email already exists', { field: 'input.email' })
        : new ApiError('EXTERNAL_ID_TAKEN', 'this external id is used by another thing', {
            field: 'input.externalId',
          });
    }
    try {
      await this.#commit(append());
    } catch (err) {
      await releaseClaim(this.#pool, kind, value, ownerId).catch(() => {});
      throw err;
    }
  }

  async #passwordHash(field: string, password: string, email: string): Promise<string> {
    const problem = checkPasswordPolicy(password, { email });
    if (problem)
      throw new ApiError('WEAK_PASSWORD', `${field}: ${problem.message}`, { field, reason: problem.code });
    return hashPassword(password);
  }

  #assertMayGrant(p: Principal, role: Role): void {
    if (!atLeast(p.role, role))
      throw new ApiError('FORBIDDEN', `a ${p.role} cannot grant or change the role ${role}`);
  }

  async #userRole(p: Principal, userId: string): Promise<Role> {
    const { rows } = await this.#pool.query<{ role: Role }>(
      'SELECT role FROM users WHERE id = $1 AND tenant_id = $2',
      [isId(userId) ? userId : '00000000-0000-0000-0000-000000000000', p.tenantId],
    );
    if (!rows[0]) throw notFound('user', userId);
    return rows[0].role;
  }

  async #otherOwners(tenantId: string, userId: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM users WHERE tenant_id = $1 AND id <> $2 AND 'owner' = ANY(roles)`,
      [tenantId, userId],
    );
    return rows[0]?.n ?? 0;
  }
}

function ref(tenantId: string, kind: RegistryKind, entityId: string) {
  return { tenantId, kind, id: entityId };
}

/** A malformed id cannot name anything: NOT_FOUND, exactly as for another tenant's id. */
function id(value: string, what: string): string {
  if (!isId(value)) throw notFound(what, value);
  return value;
}
