import type pg from 'pg';
import { withTransaction } from '../pg-pool.ts';
import type { ProcessorMessage } from './types.ts';

/**
 * "Write the projection and what was applied in one Postgres transaction", so a redelivered
 * message (after a crash between commit and ack, or an ack lost on the way) is never applied
 * twice. Works with several instances sharing a consumer: the applied set is keyed by stream
 * sequence, and rows at or below the consumer's ack floor are pruned since they cannot come back.
 * Its tables are the runtime's own migration set (`runtimeMigrations`).
 */
export class PgCheckpoint {
  readonly #pool: pg.Pool;
  readonly processor: string;

  constructor(pool: pg.Pool, processor: string) {
    this.#pool = pool;
    this.processor = processor;
  }

  get #lockKey(): string {
    return `telly_processor:${this.processor}`;
  }

  /**
   * Runs `apply` with the messages not applied before, inside one transaction that also records
   * them. Returns how many were fresh.
   */
  async apply(
    messages: ProcessorMessage[],
    apply: (client: pg.PoolClient, fresh: ProcessorMessage[]) => Promise<void>,
  ): Promise<number> {
    if (messages.length === 0) return 0;
    const seqs = messages.map((m) => m.seq).sort((a, b) => a - b); // one lock order for all instances
    return withTransaction(this.#pool, async (client) => {
      // shared: instances apply side by side; only exclusive() (a replay's swap) waits for them
      await client.query('SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))', [this.#lockKey]);
      const { rows } = await client.query<{ seq: string }>(
        `INSERT INTO telly_applied (processor, seq) SELECT $1, unnest($2::bigint[])
         ON CONFLICT DO NOTHING RETURNING seq`,
        [this.processor, seqs],
      );
      const freshSeqs = new Set(rows.map((r) => Number(r.seq)));
      const fresh = messages.filter((m) => freshSeqs.has(m.seq));
      if (fresh.length > 0) {
        await apply(client, fresh);
        await client.query(
          `INSERT INTO telly_checkpoints (processor, last_seq) VALUES ($1, $2)
           ON CONFLICT (processor) DO UPDATE
             SET last_seq = GREATEST(telly_checkpoints.last_seq, EXCLUDED.last_seq), updated_at = now()`,
          [this.processor, seqs[seqs.length - 1]],
        );
      }
      return fresh.length;
    });
  }

  /**
   * Runs `fn` in a transaction during which no batch of this processor commits (those in
   * flight finish first): a replay swaps the projection's tables and applied set here.
   */
  async exclusive<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.#pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [this.#lockKey]);
      return fn(client);
    });
  }

  /**
   * Inside {@link exclusive}: from now on the projection holds exactly the messages up to
   * `lastSeq`, so a redelivery of any of them above `ackFloor` is skipped and later ones applied.
   */
  async resetWithin(client: pg.PoolClient, ackFloor: number, lastSeq: number): Promise<void> {
    await client.query('DELETE FROM telly_applied WHERE processor = $1', [this.processor]);
    await client.query(
      'INSERT INTO telly_applied (processor, seq) SELECT $1, generate_series($2::bigint + 1, $3::bigint)',
      [this.processor, ackFloor, lastSeq],
    );
    await client.query(
      `INSERT INTO telly_checkpoints (processor, last_seq) VALUES ($1, $2)
       ON CONFLICT (processor) DO UPDATE SET last_seq = EXCLUDED.last_seq, updated_at = now()`,
      [this.processor, lastSeq],
    );
  }

  /**
   * Highest stream sequence applied so far (0 when none). Pass the client of a transaction
   * (e.g. inside {@link exclusive}) to read it there.
   */
  async lastSeq(db: pg.Pool | pg.PoolClient = this.#pool): Promise<number> {
    const { rows } = await db.query<{ last_seq: string }>(
      'SELECT last_seq FROM telly_checkpoints WHERE processor = $1',
      [this.processor],
    );
    return Number(rows[0]?.last_seq ?? 0);
  }

  /**
   * Inside the caller's transaction: forgets everything this processor applied, so that it
   * starts over from the first message (with its projection emptied in the same transaction).
   */
  async forgetWithin(client: pg.PoolClient): Promise<void> {
    await client.query('DELETE FROM telly_applied WHERE processor = $1', [this.processor]);
    await client.query('DELETE FROM telly_checkpoints WHERE processor = $1', [this.processor]);
  }

  /** Forgets applied sequences at or below `ackFloor`: JetStream will not redeliver them. */
  async prune(ackFloor: number): Promise<void> {
    await this.#pool.query('DELETE FROM telly_applied WHERE processor = $1 AND seq <= $2', [
      this.processor,
      ackFloor,
    ]);
  }
}
