import type { Logger, Publisher } from '@telly/runtime';
import type { TellyEvent } from '@telly/schemas';
import type pg from 'pg';

/** Writes events to the outbox, in the caller's transaction (with the decision that made them). */
export async function enqueueEvents(db: pg.PoolClient, events: readonly TellyEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query('INSERT INTO rule_outbox (event) SELECT jsonb_array_elements($1::jsonb)', [
    JSON.stringify(events),
  ]);
}

/** How often the outbox is looked at when nothing wakes it. @default 500 */
export const DEFAULT_OUTBOX_INTERVAL_MS = 500;

/**
 * Publishes the outbox into EVENTS, oldest first, each under its own event id as `Nats-Msg-Id`
 * (so a publish repeated after a crash is dropped by JetStream), and deletes what was acked.
 * `kick()` flushes at once (after a batch committed); a timer catches up after a restart.
 */
export class Outbox {
  readonly #pool: pg.Pool;
  readonly #publisher: Publisher;
  readonly #logger: Logger;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(event: TellyEvent) => void>();

  constructor(pool: pg.Pool, publisher: Publisher, logger: Logger) {
    this.#pool = pool;
    this.#publisher = publisher;
    this.#logger = logger;
  }

  start(intervalMs = DEFAULT_OUTBOX_INTERVAL_MS): void {
    this.#timer = setInterval(() => this.kick(), intervalMs);
    this.kick();
  }

  /** Called with each event once it is in EVENTS (metrics, tests). */
  onPublished(listener: (event: TellyEvent) => void): void {
    this.#listeners.add(listener);
  }

  kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#flush()
      .catch((err: unknown) => this.#logger.warn({ err }, 'publishing the alert outbox failed; retrying'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #flush(): Promise<void> {
    for (;;) {
      const { rows } = await this.#pool.query<{ id: string; event: TellyEvent }>(
        'SELECT id, event FROM rule_outbox ORDER BY id LIMIT 256',
      );
      if (rows.length === 0) return;
      await Promise.all(rows.map((row) => this.#publisher.publishEvent(row.event)));
      await this.#pool.query('DELETE FROM rule_outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      for (const row of rows) for (const listener of this.#listeners) listener(row.event);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
