import {
  isRegistryError,
  type ProjectionWaiter,
  RegistryCommands,
  RegistryQueries,
  type RegistryStore,
} from '@telly/registry';
import type pg from 'pg';
import { v7 } from 'uuid';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../auth/password.ts';
import type { Principal } from '../auth/principal.ts';
import { atLeast, type Role } from '../auth/roles.ts';
import { keyHash, newApiKey, newThingKey, safeEqual } from '../auth/secrets.ts';
import { ApiError, invalid, notFound } from '../errors.ts';
import {
  MAX_BOOTSTRAP_CONTENT_BYTES,
  MAX_EXTERNAL_ID_LENGTH,
  validEmail,
  validExternalKey,
  validMetadata,
  validName,
  validRateLimit,
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
 * Registry commands as the API offers them: checks the caller's input and role, makes and
 * hashes secrets, and hands the command to the registry's per-aggregate commands, which append
 * and return once the read model shows the change (read-your-writes).
 */
export class RegistryService {
  readonly #commands: RegistryCommands;
  readonly #queries: RegistryQueries;

  constructor(store: RegistryStore, waiter: ProjectionWaiter, pool: pg.Pool) {
    this.#commands = new RegistryCommands(store, waiter, pool);
    this.#queries = new RegistryQueries(pool);
  }

  // --- tenants and users

  async signup(input: { email: string; password: string; tenantName: string }): Promise<{
    userId: string;
    tenantId: string;
  }> {
    const email = validEmail('input.email', input.email);
    const tenantName = validName('input.tenantName', input.tenantName);
    const passwordHash = await passwordHashOf('input.password', input.password, email);
    return emailClaimed(this.#commands.tenants.signup({ tenantName, email, passwordHash }));
  }

  async inviteUser(p: Principal, input: { email: string; password: string; role: Role }): Promise<string> {
    assertMayGrant(p, input.role);
    const email = validEmail('input.email', input.email);
    const passwordHash = await passwordHashOf('input.password', input.password, email);
    return emailClaimed(this.#commands.users.register(p, { email, passwordHash, role: input.role }));
  }

  async setUserRole(p: Principal, userId: string, role: Role): Promise<void> {
    assertMayGrant(p, role);
    assertMayGrant(p, await this.#userRole(p, userId)); // an admin cannot demote an owner
    await this.#commands.users.setRole(p, userId, role);
  }

  async deleteUser(p: Principal, userId: string): Promise<void> {
    assertMayGrant(p, await this.#userRole(p, userId));
    await this.#commands.users.delete(p, userId);
  }

  async changePassword(p: Principal, currentPassword: string, newPassword: string): Promise<void> {
    if (p.kind !== 'user') throw new ApiError('FORBIDDEN', 'only a Telly user has a password to change');
    const user = await this.#queries.userSecret(p.tenantId, p.id);
    if (!user || !(await verifyPassword(currentPassword, user.password_hash))) {
      throw new ApiError('INVALID_CREDENTIALS', 'the current password is wrong');
    }
    const passwordHash = await passwordHashOf('newPassword', newPassword, user.email);
    await this.#commands.users.changePassword(p, p.id, passwordHash);
  }

  async renameTenant(p: Principal, name: string): Promise<void> {
    await this.#commands.tenants.rename(p, validName('name', name));
  }

  // --- channels

  async createChannel(p: Principal, input: ThingInput): Promise<string> {
    return this.#commands.channels.create(p, {
      name: validName('input.name', input.name ?? ''),
      metadata: validMetadata('input.metadata', input.metadata ?? {}),
    });
  }

  async updateChannel(p: Principal, channelId: string, input: ThingInput): Promise<void> {
    return this.#commands.channels.update(p, channelId, changes(input));
  }

  async deleteChannel(p: Principal, channelId: string): Promise<void> {
    return this.#commands.channels.delete(p, channelId);
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
    // refused before the thing is created, not after
    if (input.externalKey != null) validExternalKey('input.externalKey', input.externalKey);
    const key = newThingKey();
    const thingId = await this.#commands.things.create(p, { name, metadata, keyHash: keyHash(key) });
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
    return this.#commands.things.update(p, thingId, changes(input));
  }

  async deleteThing(p: Principal, thingId: string): Promise<void> {
    return this.#commands.things.delete(p, thingId);
  }

  async setThingEnabled(p: Principal, thingId: string, enabled: boolean): Promise<void> {
    return this.#commands.things.setEnabled(p, thingId, enabled);
  }

  /**
   * The thing's own rate limit at every bridge (both null: back to the deployment's).
   * @throws ApiError `VALIDATION_FAILED` out of bounds or only one of the two given.
   */
  async setThingRateLimit(
    p: Principal,
    thingId: string,
    perSecond: number | null | undefined,
    burst: number | null | undefined,
  ): Promise<void> {
    return this.#commands.things.setRateLimit(p, thingId, validRateLimit(perSecond, burst));
  }

  /** A new key for the thing; the old one stops working at every bridge. */
  async rotateThingKey(p: Principal, thingId: string): Promise<string> {
    const key = newThingKey();
    await this.#commands.things.rotateKey(p, thingId, keyHash(key));
    return key;
  }

  async connect(p: Principal, thingId: string, channelId: string): Promise<void> {
    return this.#commands.things.connect(p, thingId, channelId);
  }

  async disconnect(p: Principal, thingId: string, channelId: string): Promise<void> {
    return this.#commands.things.disconnect(p, thingId, channelId);
  }

  // --- bootstrap

  async configureBootstrap(p: Principal, input: BootstrapInput): Promise<void> {
    const externalId = input.externalId.trim();
    if (externalId.length === 0 || externalId.length > MAX_EXTERNAL_ID_LENGTH) {
      throw invalid('input.externalId', `must be 1 to ${MAX_EXTERNAL_ID_LENGTH} characters`);
    }
    validExternalKey('input.externalKey', input.externalKey);
    if (Buffer.byteLength(input.content) > MAX_BOOTSTRAP_CONTENT_BYTES) {
      throw invalid('input.content', `must be at most ${MAX_BOOTSTRAP_CONTENT_BYTES} bytes`);
    }
    try {
      await this.#commands.bootstrap.configure(p, {
        thingId: input.thingId,
        externalId,
        externalKeyHash: keyHash(input.externalKey),
        channelIds: input.channelIds,
        content: input.content,
      });
    } catch (err) {
      if (isRegistryError(err) && err.code === 'TAKEN') {
        throw new ApiError('EXTERNAL_ID_TAKEN', 'this external id is used by another thing', {
          field: 'input.externalId',
        });
      }
      throw err;
    }
  }

  async removeBootstrap(p: Principal, thingId: string): Promise<void> {
    return this.#commands.bootstrap.remove(p, thingId);
  }

  /**
   * What a device fetches with its external id and key. The log keeps only hashes of thing keys,
   * so the thing gets a fresh key here (the previous one stops working): bootstrapping is how a
   * device obtains its credentials, each time it needs them.
   */
  async bootstrap(externalId: string, externalKey: string): Promise<BootstrapAnswer | undefined> {
    const configs = await this.#queries.bootstrapsByExternalId(externalId);
    const config = configs.find((row) => safeEqual(row.external_key_hash, keyHash(externalKey)));
    if (!config) return undefined;
    const system = { tenantId: config.tenant_id, actor: 'system' };
    const thingKey = newThingKey();
    await this.#commands.things.rotateKey(system, config.thing_id, keyHash(thingKey));
    const channels = await this.#queries.channelsByIds(config.tenant_id, config.channels);
    return {
      thingId: config.thing_id,
      thingKey,
      channels: channels.map(({ id, name, metadata }) => ({ id, name, metadata })),
      content: config.content,
    };
  }

  // --- API keys

  async createApiKey(
    p: Principal,
    input: { name: string; role: Role; expiresAt?: Date | null | undefined },
  ): Promise<{ apikeyId: string; key: string }> {
    assertMayGrant(p, input.role);
    const name = validName('input.name', input.name);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw invalid('input.expiresAt', 'must be in the future');
    }
    const apikeyId = v7();
    const key = newApiKey(apikeyId);
    await this.#commands.apiKeys.create(p, {
      apikeyId,
      name,
      keyHash: keyHash(key),
      role: input.role,
      expiresAt: input.expiresAt?.toISOString(),
    });
    return { apikeyId, key };
  }

  async revokeApiKey(p: Principal, apikeyId: string): Promise<void> {
    return this.#commands.apiKeys.revoke(p, apikeyId);
  }

  /** The user's role in the caller's tenant; NOT_FOUND for no such user. */
  async #userRole(p: Principal, userId: string): Promise<Role> {
    const user = await this.#queries.user(p.tenantId, userId);
    if (!user) throw notFound('user', userId);
    return user.role as Role;
  }
}

/** The fields an update gives, checked; what it leaves out stays as it is. */
function changes(input: ThingInput): { name?: string; metadata?: Record<string, unknown> } {
  return {
    ...(input.name == null ? {} : { name: validName('input.name', input.name) }),
    ...(input.metadata == null ? {} : { metadata: validMetadata('input.metadata', input.metadata) }),
  };
}

/** A registry command that claims an email: TAKEN becomes EMAIL_TAKEN on the input's field. */
async function emailClaimed<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (err) {
    if (isRegistryError(err) && err.code === 'TAKEN') {
      throw new ApiError('EMAIL_TAKEN', 'an account with this email already exists', {
        field: 'input.email',
      });
    }
    throw err;
  }
}

async function passwordHashOf(field: string, password: string, email: string): Promise<string> {
  const problem = checkPasswordPolicy(password, { email });
  if (problem) {
    throw new ApiError('WEAK_PASSWORD', `${field}: ${problem.message}`, { field, reason: problem.code });
  }
  return hashPassword(password);
}

function assertMayGrant(p: Principal, role: Role): void {
  if (!atLeast(p.role, role))
    throw new ApiError('FORBIDDEN', `a ${p.role} cannot grant or change the role ${role}`);
}
