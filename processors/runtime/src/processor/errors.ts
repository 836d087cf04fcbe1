import { errorPredicate, TellyError } from '@telly/schemas';

/** A message that will fail however often it is retried: it goes to the DLQ at once. */
export class PermanentError extends TellyError<'PERMANENT'> {
  constructor(message: string, options?: ErrorOptions) {
    super('PERMANENT', message, options);
  }
}

export const isPermanentError = errorPredicate(PermanentError);

/**
 * A dependency the handler writes to is down (its database, its sink): not the message's
 * fault. The runtime keeps the batch and retries it in place with backoff, fetching nothing
 * more and counting no delivery, until the dependency is back; no message goes to the DLQ.
 */
export class UnavailableError extends TellyError<'UNAVAILABLE'> {
  constructor(message: string, options?: ErrorOptions) {
    super('UNAVAILABLE', message, options);
  }
}

/** Node socket errors and Postgres SQLSTATEs that mean "the server is not reachable now". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '42P01', // undefined_table: a projection's tables dropped for a rebuild, back after the replay
]);

/**
 * An UnavailableError, or an error of a driver that could not reach its server: a refused or
 * reset socket, a Postgres connection exception (class 08) or shutdown, a connection dropped
 * mid-query.
 */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof UnavailableError) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) return true;
  if (/Connection terminated|connection timeout|Client has encountered a connection error/i.test(err.message))
    return true;
  return err instanceof AggregateError && err.errors.some(isUnavailableError);
}
