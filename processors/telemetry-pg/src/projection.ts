import { defineProcessor, PgCheckpoint, type ProcessorDefinition, telemetryPointsOf } from '@telly/runtime';
import { messageFilters, STREAMS } from '@telly/schemas';
import type pg from 'pg';
import { Partitions } from './partitions.ts';
import { writePoints } from './write.ts';

/** Postgres: no partition of the table accepts the row. */
const NO_PARTITION_FOR_ROW = '23514';

/** Durable consumer and checkpoint name. */
export const TELEMETRY_PG = 'telemetry-pg';

/**
 * MESSAGES → Postgres: each batch's points, latest values and rollups are written in one
 * transaction together with the checkpoint, so a redelivered batch is never applied twice.
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
    batch: { maxMessages: 1000 },
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      const points = messages.flatMap((m) => telemetryPointsOf(m));
      await partitions.ensure(
        pool,
        points.map((p) => p.timeMs),
      );
      try {
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
        throw err;
      }
    },
  });
  return { ...definition, checkpoint, partitions };
}
