import { type Page, type PageArgs, queryPage } from '@telly/runtime';
import { isTellyId, tellyIdOrNone } from '@telly/schemas';
import type pg from 'pg';
import type {
  ApiKeyRow,
  BootstrapRow,
  BootstrapSecretRow,
  ChannelFilter,
  ChannelRow,
  TenantRow,
  ThingFilter,
  ThingRow,
  UserRow,
  UserSecretRow,
} from './rows.ts';

/**
 * Queries of the registry read model: the only SQL on its tables outside the projection.
 * Everything a tenant's caller reads is bound to the tenant; the few lookups across tenants
 * (login by email, an API key by id, a device's bootstrap by external id) say so.
 */
export class RegistryQueries {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async tenant(tenantId: string): Promise<TenantRow | undefined> {
    const { rows } = await this.#pool.query<TenantRow>(
      'SELECT id, name, created_at FROM tenants WHERE id = $1',
      [tellyIdOrNone(tenantId)],
    );
    return rows[0];
  }

  async user(tenantId: string, userId: string): Promise<UserRow | undefined> {
    const { rows } = await this.#pool.query<UserRow>(
      'SELECT id, tenant_id, email, role, created_at FROM users WHERE tenant_id = $1 AND id = $2',
      [tenantId, tellyIdOrNone(userId)],
    );
    return rows[0];
  }

  /** A user by id alone: only for the user a login just authenticated. */
  async userById(userId: string): Promise<UserRow | undefined> {
    const { rows } = await this.#pool.query<UserRow>(
      'SELECT id, tenant_id, email, role, created_at FROM users WHERE id = $1',
      [tellyIdOrNone(userId)],
    );
    return rows[0];
  }

  /** The account an email logs in to, across tenants (the oldest, should the log hold two). */
  async userByEmail(email: string): Promise<UserSecretRow | undefined> {
    const { rows } = await this.#pool.query<UserSecretRow>(
      `SELECT id, tenant_id, email, password_hash FROM users WHERE email = $1 ORDER BY created_at LIMIT 1`,
      [email],
    );
    return rows[0];
  }

  /** A user's email and password hash, to check the current password. */
  async userSecret(tenantId: string, userId: string): Promise<UserSecretRow | undefined> {
    const { rows } = await this.#pool.query<UserSecretRow>(
      'SELECT id, tenant_id, email, password_hash FROM users WHERE tenant_id = $1 AND id = $2',
      [tenantId, tellyIdOrNone(userId)],
    );
    return rows[0];
  }

  /** How many owners the tenant has besides `userId`. */
  async otherOwners(tenantId: string, userId: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM users WHERE tenant_id = $1 AND id <> $2 AND 'owner' = ANY(roles)`,
      [tenantId, tellyIdOrNone(userId)],
    );
    return rows[0]?.n ?? 0;
  }

  async thing(tenantId: string, thingId: string): Promise<ThingRow | undefined> {
    const { rows } = await this.#pool.query<ThingRow>(
      `SELECT id, tenant_id, name, metadata, enabled, rate_per_second, rate_burst, created_at, updated_at
       FROM things WHERE tenant_id = $1 AND id = $2`,
      [tenantId, tellyIdOrNone(thingId)],
    );
    return rows[0];
  }

  async channel(tenantId: string, channelId: string): Promise<ChannelRow | undefined> {
    const { rows } = await this.#pool.query<ChannelRow>(
      `SELECT id, tenant_id, name, metadata, created_at, updated_at FROM channels
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, tellyIdOrNone(channelId)],
    );
    return rows[0];
  }

  /** The tenant's channels among `channelIds`, in id order. */
  async channelsByIds(tenantId: string, channelIds: readonly string[]): Promise<ChannelRow[]> {
    const { rows } = await this.#pool.query<ChannelRow>(
      `SELECT id, tenant_id, name, metadata, created_at, updated_at FROM channels
       WHERE id = ANY($1::uuid[]) AND tenant_id = $2 ORDER BY id`,
      [channelIds.filter(isTellyId), tenantId],
    );
    return rows;
  }

  async bootstrap(tenantId: string, thingId: string): Promise<BootstrapRow | undefined> {
    const { rows } = await this.#pool.query<BootstrapRow>(
      `SELECT thing_id, external_id, channels::text[] AS channels, content, updated_at FROM bootstrap_configs
       WHERE tenant_id = $1 AND thing_id = $2`,
      [tenantId, tellyIdOrNone(thingId)],
    );
    return rows[0];
  }

  /** Bootstrap configs of enabled things with this external id, across tenants; check the key of each. */
  async bootstrapsByExternalId(externalId: string): Promise<BootstrapSecretRow[]> {
    const { rows } = await this.#pool.query<BootstrapSecretRow>(
      `SELECT b.thing_id, b.tenant_id, b.external_key_hash, b.channels::text[] AS channels, b.content
       FROM bootstrap_configs b JOIN things t ON t.id = b.thing_id AND t.enabled
       WHERE b.external_id = $1`,
      [externalId],
    );
    return rows;
  }

  things(tenantId: string, args: PageArgs, filter: ThingFilter = {}): Promise<Page<ThingRow>> {
    const c = new Conditions(tenantId).named(filter);
    if (filter.enabled != null) c.add('t.enabled = ?', filter.enabled);
    if (filter.channelId != null) {
      c.add(
        'EXISTS (SELECT 1 FROM connections c WHERE c.thing_id = t.id AND c.channel_id = ?)',
        tellyIdOrNone(filter.channelId),
      );
    }
    return queryPage<ThingRow>(
      this.#pool,
      {
        select:
          'SELECT t.id, t.tenant_id, t.name, t.metadata, t.enabled, t.rate_per_second, t.rate_burst, t.created_at, t.updated_at FROM things t',
        where: c.where,
        params: c.params,
      },
      args,
    );
  }

  channels(tenantId: string, args: PageArgs, filter: ChannelFilter = {}): Promise<Page<ChannelRow>> {
    const c = new Conditions(tenantId).named(filter);
    if (filter.thingId != null) {
      c.add(
        'EXISTS (SELECT 1 FROM connections c WHERE c.channel_id = t.id AND c.thing_id = ?)',
        tellyIdOrNone(filter.thingId),
      );
    }
    return queryPage<ChannelRow>(
      this.#pool,
      {
        select: 'SELECT t.id, t.tenant_id, t.name, t.metadata, t.created_at, t.updated_at FROM channels t',
        where: c.where,
        params: c.params,
      },
      args,
    );
  }

  users(tenantId: string, args: PageArgs): Promise<Page<UserRow>> {
    return queryPage<UserRow>(
      this.#pool,
      {
        select: 'SELECT t.id, t.tenant_id, t.email, t.role, t.created_at FROM users t',
        where: ['t.tenant_id = $1'],
        params: [tenantId],
      },
      args,
    );
  }

  async apiKeys(tenantId: string): Promise<ApiKeyRow[]> {
    const { rows } = await this.#pool.query<ApiKeyRow>(
      `SELECT id, tenant_id, name, role, expires_at, revoked_at, created_at FROM api_keys
       WHERE tenant_id = $1 ORDER BY id`,
      [tenantId],
    );
    return rows;
  }

  /** The API key with this id and hash, unless revoked or expired; across tenants (it says which). */
  async activeApiKey(
    apikeyId: string,
    keyHash: string,
  ): Promise<{ tenant_id: string; role: string } | undefined> {
    const { rows } = await this.#pool.query<{ tenant_id: string; role: string }>(
      `SELECT tenant_id, role FROM api_keys
       WHERE id = $1 AND key_hash = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [tellyIdOrNone(apikeyId), keyHash],
    );
    return rows[0];
  }
}

/** WHERE conditions of a tenant's list, `?` standing for the next parameter. */
class Conditions {
  readonly where: string[] = ['t.tenant_id = $1'];
  readonly params: unknown[];

  constructor(tenantId: string) {
    this.params = [tenantId];
  }

  add(condition: string, value: unknown): this {
    this.params.push(value);
    this.where.push(condition.replace('?', `$${this.params.length}`));
    return this;
  }

  /** The filters things and channels share: a name substring and metadata containment. */
  named(filter: {
    nameContains?: string | null | undefined;
    metadata?: Record<string, unknown> | null | undefined;
  }): this {
    if (filter.nameContains) this.add('t.name ILIKE ?', `%${escapeLike(filter.nameContains)}%`);
    if (filter.metadata) this.add('t.metadata @> ?::jsonb', filter.metadata);
    return this;
  }
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
