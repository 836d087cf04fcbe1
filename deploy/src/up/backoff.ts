/** @default first restart delay */
export const DEFAULT_RESTART_DELAY_MS = 500;
/** @default longest restart delay */
export const DEFAULT_MAX_RESTART_DELAY_MS = 30_000;
/** A process that ran this long without crashing starts again from the first delay. */
export const STABLE_AFTER_MS = 60_000;

/** Exponential restart delays for a supervised process, reset once it has been stable. */
export class RestartBackoff {
  #attempt = 0;
  #startedAt = 0;
  readonly #initial: number;
  readonly #max: number;

  constructor(initial = DEFAULT_RESTART_DELAY_MS, max = DEFAULT_MAX_RESTART_DELAY_MS) {
    this.#initial = initial;
    this.#max = max;
  }

  started(now = Date.now()): void {
    this.#startedAt = now;
  }

  /** Delay before the next restart, after a crash at `now`. */
  next(now = Date.now()): number {
    if (now - this.#startedAt >= STABLE_AFTER_MS) this.#attempt = 0;
    const delay = Math.min(this.#max, this.#initial * 2 ** this.#attempt);
    this.#attempt++;
    return delay;
  }
}
