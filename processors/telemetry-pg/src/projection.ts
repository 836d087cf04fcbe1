import { defineProcessor, PermanentError, PgCheckpoint, type ProcessorDefinition } from '@telly/runtime';
import { isSenmlError, isSubjectError, STREAMS, type TelemetryPoint, telemetryPoints } from '@telly/schemas';
import type pg from 'pg';
import { Partitions } from './partitions.ts';
import { writePoints } from './write.ts';

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
          points.push(
            ...telemetryPoints({
              subject: m.subject,
              seq: m.seq,
              contentType: m.headers?.get('Content-Type') || undefined,
              receivedMs: Number(m.headers?.get('Telly-Received')) || m.timestampMs,
              body: m.data,
            }),
          );
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
      await checkpoint.apply(messages, async (client, fresh) => {
        const freshSeqs = new Set(fresh.map((m) => m.seq));
        await writePoints(
          client,
          points.filter((p) => freshSeqs.has(p.seq)),
        );
      });
    },
  });
  return { ...definition, checkpoint, partitions };
}
