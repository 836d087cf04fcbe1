import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A Prometheus registry for one component, with the process metrics and a `component` label on
 * every series so `telly up` can merge the registries of all its children.
 */
export function createMetricsRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return registry;
}
