import { HttpProblem } from './problem.ts';

/** The header a device retries under so that a message is stored once. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** What an `Idempotency-Key` may hold: it becomes part of the `Nats-Msg-Id`. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._~:-]{1,128}$/;

/**
 * The message id carried by `Idempotency-Key`, or undefined when the header is absent. The
 * structured-field form of the IETF draft (`"abc"`, quoted) is accepted as well as the bare token.
 * Throws a 400 {@link HttpProblem} for anything else, repeated headers included.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header.join(', ') : header.trim();
  const key = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new HttpProblem(
      400,
      'invalid-idempotency-key',
      'Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 . _ ~ : -',
    );
  }
  return key;
}
