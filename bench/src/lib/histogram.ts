// Latency percentiles with HdrHistogram: values recorded in microseconds (3 significant
// digits), reported in milliseconds.
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export class LatencyHistogram {
  readonly #h: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    this.#h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.#h.totalCount;
  }

  summary(): LatencySummary {
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: this.#h.totalCount,
      p50: ms(this.#h.getValueAtPercentile(50)),
      p90: ms(this.#h.getValueAtPercentile(90)),
      p95: ms(this.#h.getValueAtPercentile(95)),
      p99: ms(this.#h.getValueAtPercentile(99)),
      max: ms(this.#h.maxValue),
      mean: ms(this.#h.mean),
    };
  }
}
