import type pg from 'pg';
import { isId } from './validate.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  totalCount: number;
}

export interface ThingRow {
  id: string;
  tenant_id: string;
  name: string;
  metadata: Record<string, unknown>;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}
export interface ChannelRow {
  id: string;
  tenant_id: string;
  name: string;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}
export interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  role: string;
  created_at: Date;
}
export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}
export interface BootstrapRow {
  thing_id: string;
  external_id: string;
  channels: string[];
  content: string;
  updated_at: Date;
}

export interface ListArgs {
  first?: number | null | undefined;
  /** Opaque cursor: the id of the last item of the previous page (ids are UUIDv7, time-ordered). */
  after?: string | null | undefined;
}

export interface ThingFilter {
  nameContains?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
  channelId?: string | null | undefined;
  enabled?: boolean | null | undefined;
}
export interface ChannelFilter {
  nameContains?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
  thingId?: string | null | undefined;
}

export const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
export function decodeCursor(cursor: string | null | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString();
  return isId(id) ? id : undefined;
}

const NO_ID = '00000000-0000-0000-0000-000000000000';

/** Read-model queries, every one bound to a tenant. */
export class RegistryQueries {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async tenant(tenantId: string): Promise<{ id: string; name: string; created_at: Date } | undefined> {
    const { rows } = await this.#pool.query('SELECT id, name, created_at FROM tenants WHERE id = $1', [
      tenantId,
    ]);
    return rows[0];
  }

  async user(tenantId: string, userId: string): Promise<UserRow | undefined> {
    const { rows } = await this.#pool.query<UserRow>(
      'SELECT id, tenant_id, email, role, created_at FROM users WHERE tenant_id = $1 AND id = $2',
      [tenantId, isId(userId) ? userId : NO_ID],
    );
    return rows[0];
  }

  /** A user by id alone: only for the user a login just authenticated. */
  async userById(userId: string): Promise<UserRow | undefined> {
    const { rows } = await this.#pool.query<UserRow>(
      'SELECT id, tenant_id, email, role, created_at FROM users WHERE id = $1',
      [userId],
    );
    return rows[0];
  }

  async thing(tenantId: string, thingId: string): Promise<ThingRow | undefined> {
    const { rows } = await this.#pool.query<ThingRow>(
      `SELECT id, tenant_id, name, metadata, enabled, created_at, updated_at FROM things
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, isId(thingId) ? thingId : NO_ID],
    );
    return rows[0];
  }

  async channel(tenantId: string, channelId: string): Promise<ChannelRow | undefined> {
    const { rows } = await this.#pool.query<ChannelRow>(
      `SELECT id, tenant_id, name, metadata, created_at, updated_at FROM channels
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, isId(channelId) ? channelId : NO_ID],
    );
    return rows[0];
  }

  async bootstrap(tenantId: string, thingId: string): Promise<BootstrapRow | undefined> {
    const { rows } = await this.#pool.query<BootstrapRow>(
      `SELECT thing_id, external_id, channels::text[] AS channels, content, updated_at FROM bootstrap_configs
       WHERE tenant_id = $1 AND thing_id = $2`,
      [tenantId, thingId],
    );
    return rows[0];
  }

  things(tenantId: string, args: ListArgs, filter: ThingFilter = {}): Promise<Page<ThingRow>> {
    const c = new Conditions(tenantId).named(filter);
    if (filter.enabled != null) c.add('t.enabled = ?', filter.enabled);
    if (filter.channelId != null) {
      c.add(
        'EXISTS (SELECT 1 FROM connections c WHERE c.thing_id = t.id AND c.channel_id = ?)',
        isId(filter.channelId) ? filter.channelId : NO_ID,
      );
    }
    return this.#page<ThingRow>(
      'SELECT t.id, t.tenant_id, t.name, t.metadata, t.enabled, t.created_at, t.updated_at FROM things t',
      c.where,
      c.params,
      args,
    );
  }

  channels(tenantId: string, args: ListArgs, filter: ChannelFilter = {}): Promise<Page<ChannelRow>> {
    const c = new Conditions(tenantId).named(filter);
    if (filter.thingId != null) {
      c.add(
        'EXISTS (SELECT 1 FROM connections c WHERE c.channel_id = t.id AND c.thing_id = ?)',
        isId(filter.thingId) ? filter.thingId : NO_ID,
      );
    }
    return this.#page<ChannelRow>(
      'SELECT t.id, t.tenant_id, t.name, t.metadata, t.created_at, t.updated_at FROM channels t',
      c.where,
      c.params,
      args,
    );
  }

  users(tenantId: string, args: ListArgs): Promise<Page<UserRow>> {
    return this.#page<UserRow>(
      'SELECT t.id, t.tenant_id, t.email, t.role, t.created_at FROM users t',
      ['t.tenant_id = $1'],
      [tenantId],
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

  async #page<T>(select: string, where: string[], params: unknown[], args: ListArgs): Promise<Page<T>> {
    const first = Math.min(Math.max(args.first ?? DEFAULT_PAGE_SIZE, 0), MAX_PAGE_SIZE);
    const filterSql = where.join(' AND ');
    const total = await this.#pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (${select} WHERE ${filterSql}) x`,
      params,
    );
    const after = decodeCursor(args.after);
    const pageParams = [...params];
    let pageWhere = filterSql;
    if (after) {
      pageParams.push(after);
      pageWhere += ` AND t.id > $${pageParams.length}`;
    }
    pageParams.push(first + 1);
    const { rows } = await this.#pool.query(
      `${select} WHERE ${pageWhere} ORDER BY t.id LIMIT $${pageParams.length}`,
      pageParams,
    );
    return {
      items: rows.slice(0, first) as T[],
      hasNextPage: rows.length > first,
      totalCount: total.rows[0]?.n ?? 0,
    };
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
