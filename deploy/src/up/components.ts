import type { UpConfig } from '../config.ts';

/** A component `telly up` runs as a supervised child process. */
export interface ComponentEntry {
  /** Unique name, used in logs, metrics (`component` label) and `/healthz`. */
  name: string;
  /** Module specifier exporting the component, e.g. `@telly/bridge-http`. */
  module: string;
  /** Export name of the {@link Component} in that module. @default 'component' */
  exportName?: string;
  /** Started only when this says so (e.g. the Influx sink only when configured). @default always */
  enabled?: (config: UpConfig) => boolean;
}

/**
 * Every bridge, processor and the API register here; `telly up` starts them in this order
 * after NATS, Postgres and the stream topology are ready.
 */
export const COMPONENTS: ComponentEntry[] = [
  { name: 'registry', module: '@telly/registry' },
  { name: 'commands', module: '@telly/commands' },
  { name: 'telemetry-pg', module: '@telly/telemetry-pg' },
  {
    name: 'telemetry-influx',
    module: '@telly/telemetry-influx',
    enabled: (config) => config.influx !== undefined,
  },
  { name: 'mqtt', module: '@telly/bridge-mqtt' },
  { name: 'http', module: '@telly/bridge-http' },
  { name: 'api', module: '@telly/api' },
];
