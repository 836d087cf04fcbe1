import { envInteger } from '@telly/runtime';

/** Per-thing rate: messages per second sustained. @default 100 */
export const DEFAULT_RATE_PER_SECOND = 100;
/** Per-thing burst above the rate. @default 200 */
export const DEFAULT_BURST = 200;

/** A token bucket's size: what one thing may send. */
export interface RateLimit {
  /** Messages per second sustained (`TELLY_RATE_PER_SECOND`). @default {@link DEFAULT_RATE_PER_SECOND} */
  ratePerSecond: number;
  /** Messages at once above the rate (`TELLY_RATE_BURST`). @default {@link DEFAULT_BURST} */
  burst: number;
}

/**
 * The deployment's per-thing limit, read once by each device bridge's config: `TELLY_RATE_PER_SECOND`
 * and `TELLY_RATE_BURST`, whole numbers of at least 1 (a gateway thing forwarding a fleet's
 * readings needs more than the defaults).
 */
export function parseRateLimit(env: NodeJS.ProcessEnv): RateLimit {
  return {
    ratePerSecond: envInteger(env, 'TELLY_RATE_PER_SECOND', DEFAULT_RATE_PER_SECOND),
    burst: envInteger(env, 'TELLY_RATE_BURST', DEFAULT_BURST),
  };
}

/**
 * A token bucket per key (thing id): `take()` answers 0 when the message may go, else the
 * seconds to wait. Idle buckets are dropped so the map stays as big as the active fleet.
 */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #sweptAt = Date.now();

  constructor(ratePerSecond = DEFAULT_RATE_PER_SECOND, burst = DEFAULT_BURST) {
    this.#limit = { ratePerSecond, burst };
  }

  /** A limiter with the deployment's limit ({@link parseRateLimit}). */
  static of(limit: RateLimit): RateLimiter {
    return new RateLimiter(limit.ratePerSecond, limit.burst);
  }

  /**
   * Takes a token for `key`. `limit` overrides the limiter's own for this key (a thing allowed
   * more than the deployment's default); the bucket refills and caps by it.
   */
  take(key: string, now = Date.now(), limit: RateLimit = this.#limit): number {
    if (now - this.#sweptAt > 60_000) this.#sweep(now);
    const { ratePerSecond: rate, burst } = limit;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at > 60_000) this.#buckets.delete(key);
    }
  }
}
