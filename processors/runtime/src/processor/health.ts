import type { CheckResult } from '../health.ts';

/** Whether a processor is consuming: its last successful fetch, and the last thing that failed. */
export class ProcessorHealth {
  readonly #staleAfterMs: number;
  #lastFetchOk = Date.now();
  #lastError: string | undefined;

  constructor(expiresMs: number) {
    this.#staleAfterMs = Math.max(10_000, expiresMs * 5);
  }

  /** A fetch (or the pull session) answered. */
  fetched(): void {
    this.#lastFetchOk = Date.now();
  }

  failed(reason: unknown): void {
    this.#lastError = reason instanceof Error ? reason.message : String(reason);
  }

  check(): CheckResult {
    const agoMs = Date.now() - this.#lastFetchOk;
    return agoMs < this.#staleAfterMs
      ? { status: 'up', detail: { lastFetchAgoMs: agoMs } }
      : { status: 'down', detail: this.#lastError ?? 'no successful fetch recently' };
  }
}
