import { Backoff } from '@telly/runtime';

/** @default first restart delay */
export const DEFAULT_RESTART_DELAY_MS = 500;
/** @default longest restart delay */
export const DEFAULT_MAX_RESTART_DELAY_MS = 30_000;
/** A process that ran this long without crashing starts again from the first delay. */
export const STABLE_AFTER_MS = 60_000;

/** Exponential restart delays for a supervised process, reset once it has been stable. */
export class RestartBackoff {
  readonly #backoff: Backoff;
  #startedAt = 0;

  constructor(initial = DEFAULT_RESTART_DELAY_MS, max = DEFAULT_MAX_RESTART_DELAY_MS) {
    this.#backoff = new Backoff({ minMs: initial, maxMs: max });
  }

  started(now = Date.now()): void {
    this.#startedAt = now;
  }

  /** Delay before the next restart, after a crash at `now`. */
  next(now = Date.now()): number {
    if (now - this.#startedAt >= STABLE_AFTER_MS) this.#backoff.reset();
    return this.#backoff.next();
  }
}
