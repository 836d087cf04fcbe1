// The benchmark suite as a library: the scenario registry, the runner and the report types.
export type { ProcessProfile } from './profile.ts';
export { summarizeProfiles } from './profile.ts';
export type { BenchReport } from './report/types.ts';
export { runScenarios } from './run.ts';
export { findScenario, SCENARIOS } from './scenarios/index.ts';
export type {
  Measurement,
  ReferenceMeasurement,
  Scenario,
  ScenarioContext,
  ScenarioReport,
  ScenarioResult,
  Size,
} from './types.ts';
