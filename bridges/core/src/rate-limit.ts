/** Per-thing rate: messages per second sustained. @default 100 */
export const DEFAULT_RATE_PER_SECOND = 100;
/** Per-thing burst above the rate. @default 200 */
export const DEFAULT_BURST = 200;

/**
 * A token bucket per key (thing id): `take()` answers 0 when the message may go, else the
 * seconds to wait. Idle buckets are dropped so the map stays as big as the active fleet.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #sweptAt = Date.now();

  constructor(ratePerSecond = DEFAULT_RATE_PER_SECOND, burst = DEFAULT_BURST) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
  }

  take(key: string, now = Date.now()): number {
    if (now - this.#sweptAt > 60_000) this.#sweep(now);
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at > 60_000) this.#buckets.delete(key);
    }
  }
}
