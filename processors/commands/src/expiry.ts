import type { Logger, Publisher } from '@telly/runtime';
import { createEvent } from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';

/** How often pending commands are checked for expiry. @default 1000 */
export const DEFAULT_EXPIRY_INTERVAL_MS = 1_000;

/**
 * Records `command.expired` for every command still pending (never delivered) after its
 * `expiresAt`. Several instances may run it: the event's `Nats-Msg-Id` is derived from the
 * command, so JetStream keeps one.
 */
export function startExpiryClock(
  pool: pg.Pool,
  publisher: Publisher,
  logger: Logger,
  intervalMs = DEFAULT_EXPIRY_INTERVAL_MS,
): { stop(): void } {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const { rows } = await pool.query<{ id: string; tenant_id: string; thing_id: string }>(
        `SELECT id, tenant_id, thing_id FROM commands WHERE status = 'pending' AND expires_at < now() LIMIT 1000`,
      );
      for (const row of rows) {
        const event = createEvent(
          'command.expired',
          { tenantId: row.tenant_id, data: { commandId: row.id, thingId: row.thing_id }, actor: 'system' },
          { id: v7(), now: Date.now() },
        );
        await publisher.publishEvent(event, { msgId: `expired:${row.id}` });
      }
    } catch (err) {
      logger.warn({ err }, 'command expiry check failed; retrying');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  return { stop: () => clearInterval(timer) };
}
