import { PgCheckpoint } from '@telly/runtime';
import { TellyError } from '@telly/schemas';
import pg from 'pg';
import { REGISTRY_NOTIFY_CHANNEL, REGISTRY_PROJECTION } from './projection.ts';

/** How long a write waits for the read model before giving up. @default 10000 */
export const DEFAULT_READ_YOUR_WRITES_MS = 10_000;
/** Poll interval backing up NOTIFY (e.g. across a reconnect). @default 250 */
const POLL_MS = 250;

/** The read model did not reach a write's sequence in time (the write itself is in the log). */
export class ProjectionTimeoutError extends TellyError<'PROJECTION_TIMEOUT'> {
  constructor(message: string, options?: ErrorOptions) {
    super('PROJECTION_TIMEOUT', message, options);
  }
}

/**
 * Read-your-writes: resolves once the registry projection has applied the log up to a
 * sequence. One LISTEN connection per process; waiters are woken by the projection's NOTIFY
 * and, as a backstop, by polling its checkpoint.
 */
export class ProjectionWaiter {
  readonly #pool: pg.Pool;
  readonly #checkpoint: PgCheckpoint;
  #applied = 0;
  #listener: pg.Client | undefined;
  #listening: Promise<void> | undefined;
  readonly #waiters = new Set<{ seq: number; resolve: () => void }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(pool: pg.Pool, processor = REGISTRY_PROJECTION) {
    this.#pool = pool;
    this.#checkpoint = new PgCheckpoint(pool, processor);
  }

  async waitFor(seq: number, timeoutMs = DEFAULT_READ_YOUR_WRITES_MS): Promise<void> {
    if (seq <= this.#applied) return;
    await this.#listen();
    await this.#poll();
    if (seq <= this.#applied) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        seq,
        resolve: () => {
          clearTimeout(timeout);
          resolve();
        },
      };
      const timeout = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new ProjectionTimeoutError(
            `the registry read model did not reach sequence ${seq} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
      this.#schedulePoll();
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    const listener = this.#listener;
    this.#listener = undefined;
    this.#listening = undefined;
    await listener?.end().catch(() => {});
  }

  #advance(seq: number): void {
    if (seq <= this.#applied) return;
    this.#applied = seq;
    for (const waiter of this.#waiters) {
      if (waiter.seq <= seq) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  async #poll(): Promise<void> {
    // applied to Postgres (checkpoint) and synced to the credentials bucket (nothing older left
    // in the outbox). Read in this order: the checkpoint commits with its outbox rows, before
    // the bucket is written, so an outbox read after it sees every row it still waits for
    const applied = await this.#checkpoint.lastSeq();
    const { rows } = await this.#pool.query<{ seq: string | null }>(
      'SELECT min(seq) - 1 AS seq FROM registry_credential_outbox',
    );
    const synced = rows[0]?.seq == null ? applied : Number(rows[0].seq);
    this.#advance(Math.min(applied, synced));
  }

  #schedulePoll(): void {
    if (this.#timer || this.#waiters.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#poll()
        .catch(() => {})
        .finally(() => this.#schedulePoll());
    }, POLL_MS);
  }

  #listen(): Promise<void> {
    this.#listening ??= (async () => {
      const client = new pg.Client(this.#pool.options);
      client.on('notification', (n) => this.#advance(Number(n.payload)));
      client.on('error', () => {
        // dropped: polling carries on, the next waitFor reconnects
        if (this.#listener === client) {
          this.#listener = undefined;
          this.#listening = undefined;
        }
      });
      await client.connect();
      await client.query(`LISTEN ${REGISTRY_NOTIFY_CHANNEL}`);
      this.#listener = client;
    })().catch((err: unknown) => {
      this.#listening = undefined;
      throw err;
    });
    return this.#listening;
  }
}
