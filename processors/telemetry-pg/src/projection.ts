import {
  defineProcessor,
  PermanentError,
  PgCheckpoint,
  type ProcessorDefinition,
  telemetryBatch,
} from '@telly/runtime';
import { messageFilters, STREAMS } from '@telly/schemas';
import type pg from 'pg';
import { Partitions } from './partitions.ts';
import { isUnstorableRowError, writePoints } from './write.ts';

/** Postgres: no partition of the table accepts the row. */
const NO_PARTITION_FOR_ROW = '23514';

/** Durable consumer and checkpoint name. */
export const TELEMETRY_PG = 'telemetry-pg';

/**
 * MESSAGES → Postgres: each batch's points, latest values and rollups are written in one
 * transaction together with the checkpoint, so a redelivered batch is never applied twice.
 *
 * An entry that is not telemetry or that no projection can store (`checkStorable`) is handed
 * back as a dead letter: it goes to the DLQ alone, with its reason, while the rest of its batch
 * is stored. Should Postgres still refuse a value, the batch fails as permanent: the runtime
 * handles it message by message, and the one Postgres refuses on its own goes to the DLQ.
 */
export function telemetryProjection(
  pool: pg.Pool,
  name = TELEMETRY_PG,
): ProcessorDefinition & { checkpoint: PgCheckpoint; partitions: Partitions } {
  const checkpoint = new PgCheckpoint(pool, name);
  const partitions = new Partitions();
  const definition = defineProcessor({
    name,
    stream: STREAMS.MESSAGES.name,
    filter: [...messageFilters()],
    // continuous: the next messages arrive while a batch is written; a batch is what came meanwhile
    batch: { maxMessages: 2000, continuous: true },
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      const { points, deadLetters } = telemetryBatch(messages);
      try {
        await partitions.ensure(
          pool,
          points.map((p) => p.timeMs),
        );
        await checkpoint.apply(messages, async (client, fresh) => {
          const freshSeqs = new Set(fresh.map((m) => m.seq));
          await writePoints(
            client,
            points.filter((p) => freshSeqs.has(p.seq)),
          );
        });
      } catch (err) {
        // a replay swapped in tables without a month this process had created: ask again on retry
        if ((err as { code?: string }).code === NO_PARTITION_FOR_ROW) partitions.forget();
        if (isUnstorableRowError(err)) {
          const range = `${messages[0]?.seq}…${messages.at(-1)?.seq}`;
          throw new PermanentError(`Postgres refused seq ${range}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        throw err;
      }
      return { deadLetters };
    },
  });
  return { ...definition, checkpoint, partitions };
}
