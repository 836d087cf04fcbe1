// Acknowledgement latencies of a run, kept as a bounded uniform sample (reservoir sampling) so
// a long run with millions of messages still reports percentiles in bounded memory.

/** @default latencies kept */
export const DEFAULT_SAMPLE_SIZE = 100_000;

export class LatencySample {
  readonly #values: number[] = [];
  readonly #size: number;
  readonly #random: () => number;
  #seen = 0;

  constructor(size = DEFAULT_SAMPLE_SIZE, random: () => number = Math.random) {
    this.#size = size;
    this.#random = random;
  }

  get count(): number {
    return this.#seen;
  }

  add(ms: number): void {
    this.#seen++;
    if (this.#values.length < this.#size) {
      this.#values.push(ms);
      return;
    }
    const slot = Math.floor(this.#random() * this.#seen);
    if (slot < this.#size) this.#values[slot] = ms;
  }

  /** The value at each percentile (0–100), nearest rank; undefined when nothing was added. */
  percentiles(ps: readonly number[]): (number | undefined)[] {
    const sorted = [...this.#values].sort((a, b) => a - b);
    return ps.map(
      (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))],
    );
  }
}
