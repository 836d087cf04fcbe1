import { TellyError } from '@telly/schemas';

/** Thrown when a condition polled by {@link waitFor} did not hold in time. */
export class WaitTimeoutError extends TellyError<'WAIT_TIMEOUT'> {
  constructor(message: string, options?: ErrorOptions) {
    super('WAIT_TIMEOUT', message, options);
  }
}

export interface WaitOptions {
  /** @default 30_000 */
  timeoutMs?: number;
  /** @default 50 */
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
  /**
   * Checked before each probe: an error returned is thrown at once, without waiting out the
   * timeout (a server whose process exited will never become ready).
   */
  giveUp?: () => Error | undefined;
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false` (or stops throwing)
 * and returns that value. The last error is chained as the timeout's cause.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 50, what = 'condition', giveUp }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const fatal = giveUp?.();
    if (fatal) throw fatal;
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new WaitTimeoutError(`${what} not reached within ${timeoutMs} ms`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** GETs `url` and resolves true on a 2xx answer, false otherwise (connection errors included). */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
