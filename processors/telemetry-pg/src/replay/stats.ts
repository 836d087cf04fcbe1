import { telemetryBatch } from '@telly/runtime';
import type { LogEntry, TelemetryPoint } from '@telly/schemas';
import { UnstorableEntries } from '../unstorable.ts';

/** Where a rebuild is, reported after every batch. */
export interface ReplayProgress {
  phase: 'copy' | 'bulk' | 'derive' | 'catch-up' | 'swap' | 'done';
  /** Last log sequence replayed. */
  seq: number;
  /** The head of the log when the current phase began. */
  targetSeq: number;
  messages: number;
  points: number;
  /** Messages per second since the replay began. */
  rate: number;
  /** Seconds left at this rate, while the target is known. */
  etaSeconds: number | undefined;
}

/** Where the time went, ms: reading the log, decoding SenML, writing rows, deriving, the swap. */
export interface ReplayTimings {
  readMs: number;
  decodeMs: number;
  writeMs: number;
  deriveMs: number;
  swapMs: number;
}

/** What a replay counted and timed so far, and its progress reports. */
export class ReplayStats {
  readonly counts = { messages: 0, points: 0, skipped: 0 };
  /** Telemetry entries no projection can store: reported apart, never written. */
  readonly unstorable = new UnstorableEntries();
  readonly #timings: ReplayTimings = { readMs: 0, decodeMs: 0, writeMs: 0, deriveMs: 0, swapMs: 0 };
  readonly #started = Date.now();
  readonly #onProgress: ((progress: ReplayProgress) => void) | undefined;

  constructor(onProgress?: (progress: ReplayProgress) => void) {
    this.#onProgress = onProgress;
  }

  get durationMs(): number {
    return Date.now() - this.#started;
  }

  /** The timings, rounded to the ms. */
  get timings(): ReplayTimings {
    return Object.fromEntries(
      Object.entries(this.#timings).map(([k, v]) => [k, Math.round(v)]),
    ) as unknown as ReplayTimings;
  }

  /** Runs `fn`, adding its duration to `key`. */
  async timed<T>(key: keyof ReplayTimings, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.#timings[key] += performance.now() - t;
    }
  }

  report(phase: ReplayProgress['phase'], seq: number, targetSeq: number): void {
    const rate = this.counts.messages / Math.max(0.001, this.durationMs / 1000);
    const left = Math.max(0, targetSeq - seq);
    this.#onProgress?.({
      phase,
      seq,
      targetSeq,
      ...this.counts,
      rate,
      etaSeconds: phase === 'bulk' || phase === 'catch-up' ? (rate > 0 ? left / rate : undefined) : 0,
    });
  }

  /**
   * The points of `entries`, as the live projection decodes them: entries that are not
   * telemetry are skipped, those that cannot be stored are reported ({@link unstorable}).
   */
  decode(entries: LogEntry[]): TelemetryPoint[] {
    const { points, deadLetters } = telemetryBatch(entries);
    this.counts.messages += entries.length;
    for (const { seq, reason, unstorable } of deadLetters) {
      if (unstorable) this.unstorable.add({ seq, reason });
      else this.counts.skipped++;
    }
    this.counts.points += points.length;
    return points;
  }

  /** Points Postgres refused after all, entry by entry: no longer counted as replayed. */
  refused(seq: number, points: number, reason: string): void {
    this.counts.points -= points;
    this.unstorable.add({ seq, reason: `Postgres refused it: ${reason}` });
  }
}
