import { setTimeout as wait } from 'node:timers/promises';

export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  minMs: number;
  /** Longest delay, ms. */
  maxMs: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
  /**
   * Share of each delay drawn at random, from 0 (exact delays) to 1 (anywhere between 0 and the
   * delay), so that peers failing together do not retry together. @default 0
   */
  jitter?: number;
}

/**
 * Exponential delays: `minMs` after the first failure, times `factor` after each further one, at
 * most `maxMs`. Stateless through {@link delay}, or counting attempts itself through
 * {@link next} and {@link reset}.
 */
export class Backoff {
  readonly #min: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    this.#min = options.minMs;
    this.#max = options.maxMs;
    this.#factor = options.factor ?? 2;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0));
  }

  /** The delay after the `attempt`-th failure (1 for the first). */
  delay(attempt: number): number {
    // the exponent is bounded so that a long outage never overflows to Infinity (or NaN)
    const exact = Math.min(this.#max, this.#min * this.#factor ** Math.min(Math.max(0, attempt - 1), 64));
    return this.#jitter === 0 ? exact : Math.round(exact * (1 - this.#jitter * Math.random()));
  }

  /** The delay after one more failure. */
  next(): number {
    this.#attempt++;
    return this.delay(this.#attempt);
  }

  /** Starts again from the first delay (after a success, a stable run). */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await wait(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // aborted: the caller looks at its signal
  }
}

export interface RetryInPlaceOptions {
  /** Whether the failure of attempt number `attempt` may go away when tried again. */
  isRetryable: (err: unknown, attempt: number) => boolean;
  backoff: Backoff;
  /** Stops retrying: a wait in progress ends at once and the last error is thrown. */
  signal?: AbortSignal | undefined;
  /** Number of the first attempt, e.g. a message's delivery count. @default 1 */
  firstAttempt?: number;
  /** Called before each wait (to log, count, keep a lease alive). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn` until it succeeds, waiting `backoff.delay(attempt)` after each retryable failure.
 * Throws the last error when it is not retryable or `signal` has aborted; the caller tells the
 * two apart by its own predicate and signal.
 */
export async function retryInPlace<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryInPlaceOptions,
): Promise<T> {
  for (let attempt = options.firstAttempt ?? 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (options.signal?.aborted || !options.isRetryable(err, attempt)) throw err;
      const delayMs = options.backoff.delay(attempt);
      options.onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}
