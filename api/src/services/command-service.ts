import type { Publisher } from '@telly/runtime';
import { createEvent, isDurationError, parseDuration } from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';
import type { Principal } from '../auth/principal.ts';
import { ApiError, invalid, notFound } from '../errors.ts';
import { DEFAULT_PAGE_SIZE, decodeCursor, MAX_PAGE_SIZE, type Page } from './queries.ts';
import { isId } from './validate.ts';

/** Commands expire after this unless a `ttl` is given. @default 1 hour */
export const DEFAULT_COMMAND_TTL_MS = 3_600_000;
/** The longest a command may wait for its thing (the COMMANDS stream keeps 7 days). */
export const MAX_COMMAND_TTL_MS = 7 * 24 * 3_600_000;
export const MAX_COMMAND_PAYLOAD_BYTES = 16 * 1024;

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
}

/**
 * Downlink commands: `send` appends `command.requested` to COMMANDS (with a per-message TTL, so
 * an expired command is never delivered) and returns once the commands read model has it.
 */
export class CommandService {
  readonly #publisher: Publisher;
  readonly #pool: pg.Pool;

  constructor(publisher: Publisher, pool: pg.Pool) {
    this.#publisher = publisher;
    this.#pool = pool;
  }

  async send(
    p: Principal,
    input: { thingId: string; name: string; payload: unknown; ttl?: string | null | undefined },
  ): Promise<CommandRow> {
    const { rows } = await this.#pool.query('SELECT 1 FROM things WHERE tenant_id = $1 AND id = $2', [
      p.tenantId,
      isId(input.thingId) ? input.thingId : '00000000-0000-0000-0000-000000000000',
    ]);
    if (rows.length === 0) throw notFound('thing', input.thingId);
    const name = input.name.trim();
    if (name.length === 0 || name.length > 128) throw invalid('name', 'must be 1 to 128 characters');
    const payload = input.payload ?? null;
    if (Buffer.byteLength(JSON.stringify(payload)) > MAX_COMMAND_PAYLOAD_BYTES) {
      throw invalid('payload', `must be at most ${MAX_COMMAND_PAYLOAD_BYTES} bytes of JSON`);
    }
    let ttlMs = DEFAULT_COMMAND_TTL_MS;
    try {
      if (input.ttl != null) ttlMs = parseDuration(input.ttl, { min: 1_000, max: MAX_COMMAND_TTL_MS });
    } catch (err) {
      if (!isDurationError(err)) throw err;
      throw invalid('ttl', 'must be a duration such as "30s", "5m", "1h", "1d" between 1 s and 7 d');
    }
    const now = Date.now();
    const commandId = v7();
    const event = createEvent(
      'command.requested',
      {
        tenantId: p.tenantId,
        actor: p.actor,
        data: {
          commandId,
          thingId: input.thingId,
          name,
          payload: payload as never,
          expiresAt: new Date(now + ttlMs).toISOString(),
        },
      },
      { id: v7(), now },
    );
    try {
      // the log drops the command at expiry (+ a margin for the expired event to be recorded first)
      await this.#publisher.publishEvent(event, { ttl: `${Math.ceil(ttlMs / 1000) + 60}s` });
    } catch (err) {
      throw new ApiError(
        'UNAVAILABLE',
        'the command could not be recorded; nothing was sent',
        {},
        { cause: err },
      );
    }
    // read-your-writes: the commands read model shows it
    const deadline = Date.now() + 10_000;
    for (;;) {
      const row = await this.command(p, commandId);
      if (row) return row;
      if (Date.now() > deadline) {
        throw new ApiError(
          'UNAVAILABLE',
          'the command is recorded but the read model is behind; query it shortly',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async command(p: Principal, commandId: string): Promise<CommandRow | undefined> {
    if (!isId(commandId)) return undefined;
    const { rows } = await this.#pool.query<CommandRow>(
      'SELECT * FROM commands WHERE tenant_id = $1 AND id = $2 AND name IS NOT NULL',
      [p.tenantId, commandId],
    );
    return rows[0];
  }

  /** A thing's commands, newest first. */
  async list(
    tenantId: string,
    thingId: string,
    args: { first?: number | null; after?: string | null; status?: string | null },
  ): Promise<Page<CommandRow>> {
    const first = Math.min(Math.max(args.first ?? DEFAULT_PAGE_SIZE, 0), MAX_PAGE_SIZE);
    const params: unknown[] = [tenantId, isId(thingId) ? thingId : '00000000-0000-0000-0000-000000000000'];
    let where = 'tenant_id = $1 AND thing_id = $2 AND name IS NOT NULL';
    if (args.status) {
      params.push(args.status);
      where += ` AND status = $${params.length}`;
    }
    const total = await this.#pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM commands WHERE ${where}`,
      params,
    );
    const after = decodeCursor(args.after);
    if (after) {
      params.push(after);
      where += ` AND id < $${params.length}`;
    }
    params.push(first + 1);
    const { rows } = await this.#pool.query<CommandRow>(
      `SELECT * FROM commands WHERE ${where} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return {
      items: rows.slice(0, first),
      hasNextPage: rows.length > first,
      totalCount: total.rows[0]?.n ?? 0,
    };
  }
}
