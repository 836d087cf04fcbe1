import { JetStreamApiCodes, JetStreamApiError, JetStreamError } from '@nats-io/jetstream';

/**
 * What JetStream answered, by its API error code (`err_code`), never by message text: the
 * client throws a {@link JetStreamApiError} for every error response of the JetStream API.
 */
function hasApiCode(err: unknown, ...codes: number[]): boolean {
  return err instanceof JetStreamApiError && codes.includes(err.code);
}

/** The consumer does not exist (JetStream error 10014). */
export function isConsumerNotFound(err: unknown): boolean {
  return hasApiCode(err, JetStreamApiCodes.ConsumerNotFound);
}

/** The stream does not exist (JetStream error 10059). */
export function isStreamNotFound(err: unknown): boolean {
  return hasApiCode(err, JetStreamApiCodes.StreamNotFound);
}

/**
 * A publish with an expected last (subject) sequence lost the race: the stream or subject moved
 * on (JetStream errors 10071 and 10164).
 */
export function isWrongLastSequence(err: unknown): boolean {
  return hasApiCode(
    err,
    JetStreamApiCodes.StreamWrongLastSequence,
    JetStreamApiCodes.StreamWrongLastSequenceUnknown,
  );
}

/**
 * A direct get found no message (status 404): e.g. a batch read past the last entry of its
 * subject. The client throws it as a status error, not as an API error.
 */
export function isNoMessage(err: unknown): boolean {
  return err instanceof JetStreamError && (err as { code?: unknown }).code === 404;
}
