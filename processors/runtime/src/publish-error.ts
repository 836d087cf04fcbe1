import { errorPredicate, TellyError } from '@telly/schemas';
import { isWrongLastSequence } from './nats-errors.ts';

/** Why JetStream did not take a message. */
export type PublishErrorCode =
  /** No JetStream answered in time (server down, restarting, no quorum): worth retrying later. */
  | 'UNAVAILABLE'
  /** Larger than the stream's (or server's) maximum message size. */
  | 'MESSAGE_TOO_LARGE'
  /** The stream is at a limit that refuses new messages. */
  | 'STREAM_FULL'
  /** Optimistic concurrency: the subject moved on since the expected sequence. */
  | 'WRONG_LAST_SEQUENCE'
  /** Anything else JetStream refused. */
  | 'REJECTED';

/**
 * The message is NOT in the log. Bridges turn this into a refusal for the device (HTTP 503/413,
 * no MQTT PUBACK) instead of pretending it was accepted.
 */
export class PublishError extends TellyError<PublishErrorCode> {
  readonly subject: string;
  constructor(code: PublishErrorCode, subject: string, message: string, options?: ErrorOptions) {
    super(code, `${code}: ${message} (subject ${subject})`, options);
    this.subject = subject;
  }

  /** Whether the same publish may succeed if tried again later. */
  get retryable(): boolean {
    return this.code === 'UNAVAILABLE';
  }
}

/** True when `err` is a {@link PublishError} (optionally with the given code). */
export const isPublishError = errorPredicate(PublishError);

/** Maps an error of the NATS client into a {@link PublishError}, once, at the edge. */
export function toPublishError(err: unknown, subject: string): PublishError {
  if (isPublishError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  let code: PublishErrorCode = 'REJECTED';
  if (/maximum payload|max_payload|message size exceeds|message too large/i.test(message))
    code = 'MESSAGE_TOO_LARGE';
  else if (/maximum (messages|bytes)|resource limits|insufficient resources|storage/i.test(message))
    code = 'STREAM_FULL';
  else if (isWrongLastSequence(err)) code = 'WRONG_LAST_SEQUENCE';
  else if (
    /NoResponders|Timeout|ClosedConnection|DrainingConnection|ConnectionError|RequestError/.test(name) ||
    /no responders|timeout|timed out|closed|disconnect|503/i.test(message)
  )
    code = 'UNAVAILABLE';
  return new PublishError(code, subject, message, { cause: err });
}
