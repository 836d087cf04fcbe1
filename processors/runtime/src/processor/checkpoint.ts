import type pg from 'pg';
import { withTransaction } from '../pg-pool.ts';
import type { ProcessorMessage } from './types.ts';

const MIGRATION = `
CREATE TABLE IF NOT EXISTS telly_applied (
  processor text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (processor, seq)
);
CREATE TABLE IF NOT EXISTS telly_checkpoints (
  processor text PRIMARY KEY,
  last_seq bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);`;

/**
 * "Write the projection and what was applied in one Postgres transaction", so a redelivered
 * message (after a crash between commit and ack, or an ack lost on the way) is never applied
 * twice. Works with several instances sharing a consumer: the applied set is keyed by stream
 * sequence, and rows at or below the consumer's ack floor are pruned since they cannot come back.
 */
export class PgCheckpoint {
  readonly #pool: pg.Pool;
  readonly processor: string;

  constructor(pool: pg.Pool, processor: string) {
    this.#pool = pool;
    this.processor = processor;
  }

  async migrate(): Promise<void> {
    await this.#pool.query(MIGRATION);
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

  /** Highest stream sequence applied so far (0 when none). */
  async lastSeq(): Promise<number> {
    const { rows } = await this.#pool.query<{ last_seq: string }>(
      'SELECT last_seq FROM telly_checkpoints WHERE processor = $1',
      [this.processor],
    );
    return Number(rows[0]?.last_seq ?? 0);
  }

  /** Forgets applied sequences at or below `ackFloor`: JetStream will not redeliver them. */
  async prune(ackFloor: number): Promise<void> {
    await this.#pool.query('DELETE FROM telly_applied WHERE processor = $1 AND seq <= $2', [
      this.processor,
      ackFloor,
    ]);
  }
}
