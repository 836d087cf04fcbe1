import { errorPredicate, type RejectionReason, TellyError } from '@telly/schemas';

const STATUS: Record<RejectionReason, number> = {
  unauthenticated: 401,
  forbidden: 403,
  'thing-disabled': 403,
  'invalid-topic': 404,
  'invalid-payload': 400,
  'unsupported-content-type': 415,
  'payload-too-large': 413,
  'rate-limited': 429,
  unavailable: 503,
};

/** A publish refused, with the reason (its code) every protocol maps to its own answer. */
export class IngestError extends TellyError<RejectionReason> {
  /** Seconds after which a retry may succeed (rate limit, log pushing back). */
  readonly retryAfter: number | undefined;

  constructor(
    reason: RejectionReason,
    message: string,
    options?: ErrorOptions & { retryAfter?: number | undefined },
  ) {
    super(reason, message, options);
    this.retryAfter = options?.retryAfter;
  }

  /** The rejection reason, i.e. the code, under the name rejection events and protocols use. */
  get reason(): RejectionReason {
    return this.code;
  }

  /** The HTTP status of the reason (CoAP maps the same numbers to 4.xx/5.xx). */
  get status(): number {
    return this.reason === 'unavailable' && this.retryAfter !== undefined ? 429 : STATUS[this.reason];
  }
}

/** True when `err` is an {@link IngestError} (optionally with the given reason). */
export const isIngestError = errorPredicate(IngestError);
