import { CommandQueries, type CommandRow } from '@telly/commands';
import { RegistryQueries } from '@telly/registry';
import type { Page, PageArgs, Publisher } from '@telly/runtime';
import { createEvent, isDurationError, parseDuration } from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';
import type { Principal } from '../auth/principal.ts';
import { ApiError, invalid, notFound } from '../errors.ts';

export type { CommandRow } from '@telly/commands';

/** Commands expire after this unless a `ttl` is given. @default 1 hour */
export const DEFAULT_COMMAND_TTL_MS = 3_600_000;
/** The longest a command may wait for its thing (the COMMANDS stream keeps 7 days). */
export const MAX_COMMAND_TTL_MS = 7 * 24 * 3_600_000;
export const MAX_COMMAND_PAYLOAD_BYTES = 16 * 1024;

/**
 * Downlink commands: `send` appends `command.requested` to COMMANDS (with a per-message TTL, so
 * an expired command is never delivered) and returns once the commands read model has it.
 */
export class CommandService {
  readonly #publisher: Publisher;
  readonly #commands: CommandQueries;
  readonly #registry: RegistryQueries;

  constructor(publisher: Publisher, pool: pg.Pool) {
    this.#publisher = publisher;
    this.#commands = new CommandQueries(pool);
    this.#registry = new RegistryQueries(pool);
  }

  async send(
    p: Principal,
    input: { thingId: string; name: string; payload: unknown; ttl?: string | null | undefined },
  ): Promise<CommandRow> {
    if (!(await this.#registry.thing(p.tenantId, input.thingId))) throw notFound('thing', input.thingId);
    const name = input.name.trim();
    if (name.length === 0 || name.length > 128) throw invalid('name', 'must be 1 to 128 characters');
    const payload = input.payload ?? null;
    if (Buffer.byteLength(JSON.stringify(payload)) > MAX_COMMAND_PAYLOAD_BYTES) {
      throw invalid('payload', `must be at most ${MAX_COMMAND_PAYLOAD_BYTES} bytes of JSON`);
    }
    const ttlMs = input.ttl == null ? DEFAULT_COMMAND_TTL_MS : commandTtl(input.ttl);
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

  command(p: Principal, commandId: string): Promise<CommandRow | undefined> {
    return this.#commands.command(p.tenantId, commandId);
  }

  /** A thing's commands, newest first. */
  list(
    tenantId: string,
    thingId: string,
    args: PageArgs & { status?: string | null | undefined },
  ): Promise<Page<CommandRow>> {
    return this.#commands.list(tenantId, thingId, args);
  }
}

/** A command's `ttl` in ms: a duration between 1 s and {@link MAX_COMMAND_TTL_MS}. */
function commandTtl(ttl: string): number {
  try {
    return parseDuration(ttl, { min: 1_000, max: MAX_COMMAND_TTL_MS });
  } catch (err) {
    if (!isDurationError(err)) throw err;
    throw invalid('ttl', 'must be a duration such as "30s", "5m", "1h", "1d" between 1 s and 7 d');
  }
}
