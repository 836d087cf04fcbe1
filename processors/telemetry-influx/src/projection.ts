import { defineProcessor, PermanentError, type ProcessorDefinition, telemetryBatch } from '@telly/runtime';
import { messageFilters, STREAMS } from '@telly/schemas';
import { telemetryLine } from './mapping.ts';
import { InfluxRejectedError, InfluxWriter, type InfluxWriterOptions } from './writer.ts';

/** Durable consumer name (and DLQ subject `dlq.telemetry-influx`). */
export const TELEMETRY_INFLUX = 'telemetry-influx';

/** Messages fetched and written per batch (one or a few requests to InfluxDB). */
export const DEFAULT_INFLUX_BATCH = 1_000;

export interface InfluxProjectionOptions extends InfluxWriterOptions {
  /** Consumer name. @default TELEMETRY_INFLUX */
  name?: string;
  /** @default DEFAULT_INFLUX_BATCH */
  batchSize?: number;
}

/** The processor definition plus the sink it writes to. */
export interface InfluxProjection extends ProcessorDefinition {
  readonly writer: InfluxWriter;
  /**
   * Call before `RunningProcessor.stop()`: a batch held back by an unavailable sink is handed
   * back (nak'd, redelivered later) instead of waiting for the sink, so stop can finish.
   */
  abort(): void;
}

/**
 * MESSAGES → InfluxDB. Each batch becomes line protocol (see `toInfluxPoint` for the mapping)
 * and is written before `handle` returns, so JetStream acks only what InfluxDB accepted; the
 * log, not the client, is the only buffer.
 *
 * - Sink unavailable (refused, timeout, 5xx, 429, auth): `handle` keeps the batch and retries
 *   in place with backoff. The runtime keeps the batch alive (`working()`), fetches nothing
 *   more and acks nothing: the consumer stands still until the sink is back (backpressure).
 *   Throwing instead would make the runtime nak the batch message by message and move every
 *   message to the DLQ after `maxDeliver` attempts — an outage must not empty the log into the
 *   DLQ.
 * - A message that is not telemetry (undecodable body, foreign subject) or that no projection
 *   can store (`checkStorable` of @telly/schemas): the rest of the batch is written and acked,
 *   the culprit is handed back as a dead letter and goes to `dlq.telemetry-influx` alone.
 * - Points the sink refuses for good (HTTP 400/413/422): the batch fails, the runtime retries
 *   message by message, and the message whose points are refused on its own goes to the DLQ.
 *
 * Writes are idempotent (a point is its series and millisecond; see the mapping), so a
 * redelivery after a lost ack writes the same points again.
 */
export function influxProjection(options: InfluxProjectionOptions): InfluxProjection {
  const writer = new InfluxWriter(options);
  const definition = defineProcessor({
    name: options.name ?? TELEMETRY_INFLUX,
    stream: STREAMS.MESSAGES.name,
    filter: [...messageFilters()],
    batch: { maxMessages: options.batchSize ?? DEFAULT_INFLUX_BATCH },
    async handle(messages, ctx) {
      const [first] = messages;
      if (first === undefined) return;
      const { points, deadLetters } = telemetryBatch(messages);
      const lines = points.map(telemetryLine).filter((line) => line !== undefined);
      try {
        await writer.write(lines, ctx.logger);
      } catch (err) {
        if (messages.length === 1 && err instanceof InfluxRejectedError) {
          throw new PermanentError(`seq ${first.seq}: ${err.message}`, { cause: err });
        }
        throw err;
      }
      return { deadLetters };
    },
  });
  return { ...definition, writer, abort: () => writer.abort() };
}
