import { isSenmlError, isSubjectError, type LogEntry, pointsOf, type TelemetryPoint } from '@telly/schemas';
import { PermanentError } from './errors.ts';

/**
 * The points of a MESSAGES entry, for a telemetry projection's handler: an entry that is not
 * telemetry (a body that does not decode, a foreign subject) fails the same way however often
 * it is retried, so it is a {@link PermanentError} and goes to the DLQ at once.
 */
export function telemetryPointsOf(m: LogEntry): TelemetryPoint[] {
  try {
    return pointsOf(m);
  } catch (err) {
    if (isSenmlError(err) || isSubjectError(err)) {
      throw new PermanentError(`seq ${m.seq} is not a telemetry message: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
