import type { Component } from '@telly/runtime';
import { influxConfigured } from '@telly/telemetry-influx';

/** A component `telly up` runs as a supervised child process. */
export interface ComponentEntry {
  /** Unique name, used in logs, metrics (`component` label) and `/healthz`. */
  name: string;
  /** Module specifier exporting the component, e.g. `@telly/bridge-http`. */
  module: string;
  /** Export name of the {@link Component} in that module. @default 'component' */
  exportName?: string;
  /** Started only when this says so (e.g. the Influx sink only when configured). @default always */
  enabled?: (env: NodeJS.ProcessEnv) => boolean;
}

/**
 * Every bridge, processor and the API register here; `telly up` starts them in this order
 * after NATS, Postgres, the stream topology and the migrations are ready.
 */
export const COMPONENTS: ComponentEntry[] = [
  { name: 'registry', module: '@telly/registry' },
  { name: 'commands', module: '@telly/commands' },
  { name: 'telemetry-pg', module: '@telly/telemetry-pg' },
  { name: 'telemetry-influx', module: '@telly/telemetry-influx', enabled: influxConfigured },
  { name: 'mqtt', module: '@telly/bridge-mqtt' },
  { name: 'http', module: '@telly/bridge-http' },
  { name: 'api', module: '@telly/api' },
];

/** Imports the component an entry names. */
export async function loadComponent(entry: ComponentEntry): Promise<Component> {
  const mod = (await import(entry.module)) as Record<string, Component | undefined>;
  const component = mod[entry.exportName ?? 'component'];
  if (!component) throw new Error(`${entry.module} has no export ${entry.exportName ?? 'component'}`);
  return component;
}
