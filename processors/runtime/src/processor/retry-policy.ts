import { Backoff } from '../retry.ts';
import { DEFAULT_PROCESSOR } from './define.ts';
import { isPermanentError, isUnavailableError } from './errors.ts';
import type { ProcessorDefinition } from './types.ts';

/**
 * How a processor retries, in one place:
 * - a dependency is down ({@link holds}): the batch is kept and tried again in place, fetching
 *   nothing more and counting no delivery, every {@link hold} delay (0.5 s doubling, at most 5 s
 *   so that it resumes soon after the dependency is back);
 * - a message fails: it is tried again after the {@link message} delay (0.5 s doubling to
 *   30 s) — redelivered by JetStream, or in place for an ordered processor — until it
 *   {@link givesUp}: a PermanentError, or `maxDeliver` deliveries spent, sends it to the DLQ.
 */
export class RetryPolicy {
  readonly hold = new Backoff({ minMs: 500, maxMs: 5_000 });
  readonly message = new Backoff({ minMs: 500, maxMs: 30_000 });
  readonly #maxDeliver: number;

  constructor(def: ProcessorDefinition) {
    this.#maxDeliver = def.maxDeliver ?? DEFAULT_PROCESSOR.maxDeliver;
  }

  holds(err: unknown): boolean {
    return isUnavailableError(err);
  }

  /** Whether a message that failed with `err` on its `deliveries`-th delivery is given up on. */
  givesUp(err: unknown, deliveries: number): boolean {
    return isPermanentError(err) || deliveries >= this.#maxDeliver;
  }
}
