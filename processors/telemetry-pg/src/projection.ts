import { defineProcessor, PermanentError, PgCheckpoint, type ProcessorDefinition } from '@telly/runtime';
import { isSenmlError, isSubjectError, pointsOf, STREAMS, type TelemetryPoint } from '@telly/schemas';
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
    filter: ['msg.>'],
    batch: { maxMessages: 1000 },
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      const points: TelemetryPoint[] = [];
      for (const m of messages) {
        try {
          points.push(...pointsOf(m));
        } catch (err) {
          if (isSenmlError(err) || isSubjectError(err)) {
            throw new PermanentError(`seq ${m.seq} is not a telemetry message: ${(err as Error).message}`, {
              cause: err,
            });
          }
          throw err;
        }
      }
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
