import {
  isSenmlError,
  isSubjectError,
  isUnstorableError,
  type LogEntry,
  pointsOf,
  type TelemetryPoint,
} from '@telly/schemas';
import { isPermanentError, PermanentError } from './errors.ts';
import type { DeadLetterRequest } from './types.ts';

/**
 * The points of a MESSAGES entry, for a telemetry projection's handler: an entry that is not
 * telemetry (a body that does not decode, a foreign subject) or that no projection can store
 * (`checkStorable` of @telly/schemas) fails the same way however often it is retried, so it is
 * a {@link PermanentError} and goes to the DLQ at once.
 */
export function telemetryPointsOf(m: LogEntry): TelemetryPoint[] {
  try {
    return pointsOf(m);
  } catch (err) {
    if (isUnstorableError(err)) {
      throw new PermanentError(`seq ${m.seq} cannot be stored: ${err.message}`, { cause: err });
    }
    if (isSenmlError(err) || isSubjectError(err)) {
      throw new PermanentError(`seq ${m.seq} is not a telemetry message: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** An entry of a batch that gives no points, and why. */
export interface TelemetryDeadLetter extends DeadLetterRequest {
  subject: string;
  /** True for telemetry no projection can store; false for an entry that is not telemetry. */
  unstorable: boolean;
}

/** The points of a batch of MESSAGES entries, and the entries that give none. */
export interface TelemetryBatch {
  points: TelemetryPoint[];
  /** Entries that are not telemetry or cannot be stored, in log order, each with its reason. */
  deadLetters: TelemetryDeadLetter[];
}

/**
 * Decodes every entry of a batch ({@link telemetryPointsOf}): the points of those that are
 * telemetry, and the others apart, so that a projection stores the rest of the batch and hands
 * those to the DLQ alone (`HandleResult.deadLetters`), and a replay reports them and finishes.
 */
export function telemetryBatch(entries: readonly LogEntry[]): TelemetryBatch {
  const points: TelemetryPoint[] = [];
  const deadLetters: TelemetryDeadLetter[] = [];
  for (const entry of entries) {
    try {
      points.push(...telemetryPointsOf(entry));
    } catch (err) {
      if (!isPermanentError(err)) throw err;
      deadLetters.push({
        seq: entry.seq,
        subject: entry.subject,
        reason: err.message,
        unstorable: isUnstorableError(err.cause),
      });
    }
  }
  return { points, deadLetters };
}
