// Every benchmark scenario, in the order `all` runs them. A new scenario is one module
// exporting a Scenario, added here.
import type { Scenario } from '../types.ts';
import { coapIngest } from './coap-ingest.ts';
import { dashboardChart } from './dashboard-chart.ts';
import { fleet } from './fleet.ts';
import { fleetCluster } from './fleet-cluster.ts';
import { httpIngest } from './http-ingest.ts';
import { kafka } from './kafka.ts';
import { latency } from './latency.ts';
import { mqttIngest } from './mqtt-ingest.ts';
import { predict } from './predict.ts';
import { query } from './query.ts';
import { rebuild } from './rebuild.ts';
import { rules } from './rules.ts';
import { streamInference } from './stream-inference.ts';

export const SCENARIOS: readonly Scenario[] = [
  mqttIngest,
  httpIngest,
  coapIngest,
  kafka,
  fleet,
  latency,
  rebuild,
  query,
  fleetCluster,
  dashboardChart,
  predict,
  streamInference,
  rules,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
