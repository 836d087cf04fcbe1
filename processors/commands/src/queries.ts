import { type Page, type PageArgs, queryPage } from '@telly/runtime';
import { isTellyId } from '@telly/schemas';
import type pg from 'pg';
import type { CommandStatus } from './projection.ts';

/** A command as the read model holds it: what was requested and its latest status. */
export interface CommandRow {
  id: string;
  tenant_id: string;
  thing_id: string;
  name: string | null;
  payload: unknown;
  status: string;
  requested_at: Date | null;
  expires_at: Date | null;
  delivered_at: Date | null;
  completed_at: Date | null;
  result: unknown;
  reason: string | null;
  /** The timed command this one reverts. */
  revert_of: string | null;
  /** When a scheduled command is (or was) to be sent. */
  scheduled_for: Date | null;
  /** Stream sequence of its schedule, while it waits there. */
  schedule_seq: string | null;
}

const COLUMNS =
  't.id, t.tenant_id, t.thing_id, t.name, t.payload, t.status, t.requested_at, t.expires_at, t.delivered_at, t.completed_at, t.result, t.reason, t.revert_of, t.scheduled_for, t.schedule_seq';

/**
 * Queries of the commands read model, each bound to a tenant. A command whose status events
 * arrived before its request (`name` still null) is not shown until the request is in.
 */
export class CommandQueries {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  command(tenantId: string, commandId: string): Promise<CommandRow | undefined> {
    return this.#one(tenantId, 'id', commandId);
  }

  /** The scheduled command that reverts a timed command, if it has one. */
  revertOf(tenantId: string, commandId: string): Promise<CommandRow | undefined> {
    return this.#one(tenantId, 'revert_of', commandId);
  }

  async #one(tenantId: string, by: 'id' | 'revert_of', commandId: string): Promise<CommandRow | undefined> {
    if (!isTellyId(commandId)) return undefined;
    const { rows } = await this.#pool.query<CommandRow>(
      `SELECT ${COLUMNS} FROM commands t WHERE t.tenant_id = $1 AND t.${by} = $2 AND t.name IS NOT NULL`,
      [tenantId, commandId],
    );
    return rows[0];
  }

  /** A thing's commands, newest first, optionally of one status. */
  list(
    tenantId: string,
    thingId: string,
    args: PageArgs & { status?: CommandStatus | string | null | undefined },
  ): Promise<Page<CommandRow>> {
    if (!isTellyId(thingId)) return Promise.resolve({ items: [], hasNextPage: false, totalCount: 0 });
    const where = ['t.tenant_id = $1', 't.thing_id = $2', 't.name IS NOT NULL'];
    const params: unknown[] = [tenantId, thingId];
    if (args.status) {
      params.push(args.status);
      where.push(`t.status = $${params.length}`);
    }
    return queryPage<CommandRow>(
      this.#pool,
      { select: `SELECT ${COLUMNS} FROM commands t`, where, params, order: 'desc' },
      args,
    );
  }
}
