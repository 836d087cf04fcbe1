import { CommandQueries, type CommandRow, cancelScheduledCommand, requestCommand } from '@telly/commands';
import { RegistryQueries } from '@telly/registry';
import { isPublishError, type Page, type PageArgs, type Publisher } from '@telly/runtime';
import { isDurationError, parseDuration } from '@telly/schemas';
import type pg from 'pg';
import type { Principal } from '../auth/principal.ts';
import { ApiError, invalid, notFound } from '../errors.ts';

export type { CommandRow } from '@telly/commands';

/** Commands expire after this unless a `ttl` is given. @default 1 hour */
export const DEFAULT_COMMAND_TTL_MS = 3_600_000;
/** The longest a command may wait for its thing (the COMMANDS stream keeps 7 days). */
export const MAX_COMMAND_TTL_MS = 7 * 24 * 3_600_000;
export const MAX_COMMAND_PAYLOAD_BYTES = 16 * 1024;
/** The longest a timed command may run before its revert (the revert waits in COMMANDS, kept 7 d). */
export const MAX_COMMAND_DURATION_MS = 24 * 3_600_000;

/** What `sendCommand` takes. */
export interface SendCommandInput {
  thingId: string;
  name: string;
  payload: unknown;
  ttl?: string | null | undefined;
  /** A timed command: `revertPayload` is sent this long after the payload. */
  duration?: string | null | undefined;
  revertPayload?: unknown;
}

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

  async send(p: Principal, input: SendCommandInput): Promise<CommandRow> {
    if (!(await this.#registry.thing(p.tenantId, input.thingId))) throw notFound('thing', input.thingId);
    const name = input.name.trim();
    if (name.length === 0 || name.length > 128) throw invalid('name', 'must be 1 to 128 characters');
    const payload = checkPayload('payload', input.payload);
    const ttlMs = input.ttl == null ? DEFAULT_COMMAND_TTL_MS : commandTtl(input.ttl);
    if (input.duration == null && input.revertPayload != null) {
      throw invalid('revertPayload', 'needs a duration: it is what is sent once the duration has passed');
    }
    const revert =
      input.duration == null
        ? undefined
        : {
            afterMs: commandDuration(input.duration),
            payload: checkPayload('revertPayload', input.revertPayload),
          };
    let sent: Awaited<ReturnType<typeof requestCommand>>;
    try {
      sent = await requestCommand(this.#publisher, {
        tenantId: p.tenantId,
        actor: p.actor,
        thingId: input.thingId,
        name,
        payload,
        ttlMs,
        revert,
      });
    } catch (err) {
      throw new ApiError(
        'UNAVAILABLE',
        'the command could not be recorded; nothing was sent',
        {},
        { cause: err },
      );
    }
    // read-your-writes: the commands read model shows it (and its scheduled revert)
    return this.#readBack(p, sent.commandId, () =>
      sent.revertCommandId === undefined ? true : this.#commands.command(p.tenantId, sent.revertCommandId),
    );
  }

  /**
   * Cancels the scheduled revert of a timed command (`id` is the timed command or its revert):
   * the revert is not sent. Refused once it has been sent or cancelled.
   */
  async cancel(p: Principal, id: string): Promise<CommandRow> {
    const row = await this.command(p, id);
    if (!row) throw notFound('command', id);
    const scheduled = row.status === 'scheduled' ? row : await this.#commands.revertOf(p.tenantId, row.id);
    if (scheduled?.status !== 'scheduled' || scheduled.schedule_seq === null) {
      throw invalid(
        'id',
        'has no scheduled command left to cancel: its revert was sent or cancelled, or it had none',
      );
    }
    try {
      await cancelScheduledCommand(this.#publisher, {
        tenantId: p.tenantId,
        thingId: scheduled.thing_id,
        commandId: scheduled.id,
        scheduleSeq: Number(scheduled.schedule_seq),
        actor: p.actor,
      });
    } catch (err) {
      if (isPublishError(err, 'WRONG_LAST_SEQUENCE')) {
        throw invalid(
          'id',
          'the scheduled command was sent (or cancelled) just now; it can no longer be cancelled',
        );
      }
      throw new ApiError(
        'UNAVAILABLE',
        'the cancellation could not be recorded; try again',
        {},
        { cause: err },
      );
    }
    await this.#readBack(p, scheduled.id, (r) => r.status === 'cancelled');
    return (await this.command(p, row.id)) ?? row;
  }

  /** Waits until the read model has the command and `ready` holds for it. */
  async #readBack(p: Principal, commandId: string, ready: (row: CommandRow) => unknown): Promise<CommandRow> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const row = await this.command(p, commandId);
      if (row && (await ready(row))) return row;
      if (Date.now() > deadline) {
        throw new ApiError(
          'UNAVAILABLE',
          'the command is recorded but the read model is behind; query it shortly',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** A command of a tenant, by id (for links between commands). */
  commandOfTenant(tenantId: string, commandId: string): Promise<CommandRow | undefined> {
    return this.#commands.command(tenantId, commandId);
  }

  /** The scheduled command reverting a timed command. */
  revertOf(tenantId: string, commandId: string): Promise<CommandRow | undefined> {
    return this.#commands.revertOf(tenantId, commandId);
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

function checkPayload(field: string, value: unknown): unknown {
  const payload = value ?? null;
  if (Buffer.byteLength(JSON.stringify(payload)) > MAX_COMMAND_PAYLOAD_BYTES) {
    throw invalid(field, `must be at most ${MAX_COMMAND_PAYLOAD_BYTES} bytes of JSON`);
  }
  return payload;
}

/** A timed command's `duration` in ms: between 1 s and {@link MAX_COMMAND_DURATION_MS}. */
function commandDuration(duration: string): number {
  try {
    return parseDuration(duration, { min: 1_000, max: MAX_COMMAND_DURATION_MS });
  } catch (err) {
    if (!isDurationError(err)) throw err;
    throw invalid('duration', 'must be a duration such as "30s", "5m", "1h" between 1 s and 24 h');
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
