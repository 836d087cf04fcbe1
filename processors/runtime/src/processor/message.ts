import type { JsMsg } from '@nats-io/jetstream';
import type { ProcessorMessage } from './types.ts';

const NS_PER_MS = 1_000_000;

/**
 * A JetStream message as a log entry: what a processor's handler gets, and what a replay, a
 * verification or a live feed decodes (`pointsOf` of @telly/schemas takes it as a `LogEntry`).
 * The one place that reads a `JsMsg`'s metadata.
 */
export function logEntryOf(m: JsMsg): ProcessorMessage {
  return {
    subject: m.subject,
    seq: m.info.streamSequence,
    data: m.data,
    headers: m.headers,
    deliveryCount: m.info.deliveryCount,
    timestampMs: Math.floor(m.info.timestampNanos / NS_PER_MS),
  };
}
