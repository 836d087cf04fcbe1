// The shape every benchmark scenario shares: what it measures against which reference, and
// the result it hands back for the JSON and Markdown reports.
import type { ProcessProfile } from './profile.ts';

/** How big a run is: `smoke` for the test suite (seconds), `short` (minutes for all), `full`. */
export type Size = 'smoke' | 'short' | 'full';

export interface ScenarioContext {
  size: Size;
  /** Telly/reference pairs to run where a scenario repeats; undefined: the scenario's default. */
  runs: number | undefined;
  /** Overrides the measured window of scenarios that run for a time. */
  durationMs: number | undefined;
  log(message: string): void;
  /** Aborted on Ctrl-C: scenarios stop what they started and throw. */
  signal: AbortSignal;
  /** When set, Telly's Node processes write CPU profiles (`.cpuprofile`) into it. */
  profileDir: string | undefined;
  /**
   * Diagnostic, not the production setting: run nats-server (Telly's, through NATS_URL, and the
   * reference's) with this JetStream sync_interval instead of `always`.
   */
  natsSyncInterval: string | undefined;
}

export interface Measurement {
  /** What was measured, e.g. `durable ingest rate`. */
  label: string;
  value: number;
  /** e.g. `msg/s`, `ms`. */
  unit: string;
}

export interface ReferenceMeasurement extends Measurement {
  /** `measured` in the same run, or a `published` constant (stated as such). */
  kind: 'measured' | 'published';
}

export interface ScenarioResult {
  telly: Measurement;
  reference: ReferenceMeasurement;
  /** telly.value ÷ reference.value. */
  ratio: number;
  /** Whether the budget's target (docs/performance.md) is met, and on what: e.g. `0.64× ≥ 0.6×`. */
  met: boolean;
  verdict: string;
  /** Percentiles, CPU, memory, loss, settings: whatever explains the numbers. */
  details: Record<string, unknown>;
  /** Server versions seen while running (for the machine section of the report). */
  versions?: { postgres?: string; natsServer?: string };
}

export interface Scenario {
  /** Command-line name, e.g. `mqtt-ingest`. */
  name: string;
  /** The budget's wording (docs/performance.md). */
  title: string;
  /** The target from the budget (docs/performance.md). */
  target: string;
  /** What runs beside it (or the published figure it is compared with). */
  reference: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** One scenario's outcome in a report: its result, or why it failed. */
export interface ScenarioReport {
  name: string;
  title: string;
  target: string;
  reference: string;
  status: 'ok' | 'failed';
  seconds: number;
  result?: ScenarioResult;
  error?: string;
  /** Hot spots of Telly's processes, when the run was profiled. */
  profile?: ProcessProfile[] | undefined;
  /**
   * The machine as the scenario found it: 300-byte `write + fdatasync` per second on the temp
   * disk, and the load averages (1, 5 min) just before and after it (other work on the machine).
   */
  disk?: { fsyncPerSecondBefore: number; loadBefore: number[]; loadAfter: number[] };
}
