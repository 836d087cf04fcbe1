import type { Component } from '@telly/runtime';
import { influxConfigured } from '@telly/telemetry-influx';
import type { NatsUser } from './nats-auth.ts';

/** A component `telly up` runs as a supervised child process. */
export interface ComponentEntry {
  /** Unique name, used in logs, metrics (`component` label) and `/healthz`. */
  name: string;
  /** Module specifier exporting the component, e.g. `@telly/bridge-http`. */
  module: string;
  /** Export name of the {@link Component} in that module. @default 'component' */
  exportName?: string;
  /** The NATS user it connects as on the managed server: what it may do there (nats-auth.ts). */
  natsUser: NatsUser;
  /** Started only when this says so (e.g. the Influx sink only when configured). @default always */
  enabled?: (env: NodeJS.ProcessEnv) => boolean;
  /**
   * Takes traffic from outside (the API, the bridges): at stop, these drain first, together,
   * while the processors behind them still run; then the processors drain. @default false
   */
  edge?: boolean;
}

/**
 * Every bridge, processor and the API register here; `telly up` starts them in this order
 * after NATS, Postgres, the stream topology and the migrations are ready.
 */
export const COMPONENTS: ComponentEntry[] = [
  { name: 'registry', module: '@telly/registry', natsUser: 'registry' },
  { name: 'commands', module: '@telly/commands', natsUser: 'commands' },
  { name: 'devices', module: '@telly/devices', natsUser: 'devices' },
  { name: 'rules', module: '@telly/rules', natsUser: 'rules' },
  { name: 'telemetry-pg', module: '@telly/telemetry-pg', natsUser: 'telemetry-pg' },
  {
    name: 'telemetry-influx',
    module: '@telly/telemetry-influx',
    natsUser: 'telemetry-influx',
    enabled: influxConfigured,
  },
  { name: 'inference', module: '@telly/inference', natsUser: 'inference' },
  { name: 'mqtt', module: '@telly/bridge-mqtt', natsUser: 'mqtt', edge: true },
  { name: 'http', module: '@telly/bridge-http', natsUser: 'http', edge: true },
  { name: 'coap', module: '@telly/bridge-coap', natsUser: 'coap', edge: true },
  {
    name: 'kafka',
    module: '@telly/bridge-kafka',
    natsUser: 'kafka',
    enabled: (env) => Boolean(env.TELLY_KAFKA_BROKERS?.trim()),
    edge: true,
  },
  { name: 'api', module: '@telly/api', natsUser: 'api', edge: true },
];

/** Imports the component an entry names. */
export async function loadComponent(
  entry: Pick<ComponentEntry, 'name' | 'module' | 'exportName'>,
): Promise<Component> {
  const mod = (await import(entry.module)) as Record<string, Component | undefined>;
  const component = mod[entry.exportName ?? 'component'];
  if (!component) throw new Error(`${entry.module} has no export ${entry.exportName ?? 'component'}`);
  return component;
}
