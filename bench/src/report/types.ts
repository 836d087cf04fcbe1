// A whole benchmark run as written to bench/results/*.json.
import type { Machine } from '../machine.ts';
import type { ScenarioReport, Size } from '../types.ts';

export interface BenchReport {
  date: string;
  command: string;
  size: Size;
  runs: number | undefined;
  seconds: number;
  machine: Machine;
  /** Settings every scenario shares. */
  settings: Record<string, string>;
  scenarios: ScenarioReport[];
}
