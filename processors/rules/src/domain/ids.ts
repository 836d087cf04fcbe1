import { createHash } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * A UUIDv7 determined by its inputs: the time part is `ms`, the rest a hash of `parts`. The
 * same reading raising the same alert (a redelivery, a restart, a replay, a backtest) always
 * yields the same id, so JetStream's deduplication and the projections keep one.
 */
export function deterministicId(ms: number, ...parts: string[]): string {
  const random = createHash('sha256').update(parts.join('\u0000')).digest().subarray(0, 16);
  return v7({ msecs: Math.max(0, Math.floor(ms)), random: new Uint8Array(random), seq: 0 });
}

/** The id of the alert a rule raises for a thing's measurement at `ms`. */
export const alertIdOf = (ruleId: string, thingId: string, name: string, ms: number): string =>
  deterministicId(ms, 'alert', ruleId, thingId, name, String(ms));

/** The id of an event of an alert's life (`resolved`, …). */
export const alertEventId = (alertId: string, what: string, ms: number): string =>
  deterministicId(ms, 'alert-event', alertId, what);
