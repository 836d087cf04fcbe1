import type { Registry } from 'prom-client';
import type { HealthChecks } from './health.ts';
import type { Logger } from './logger.ts';

/** What `telly up` (or a standalone entry) hands a component when it starts it. */
export interface ComponentContext {
  name: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  metrics: Registry;
  health: HealthChecks;
}

export interface RunningComponent {
  /** Drains in-flight work and releases everything; resolves when it is safe to exit. */
  stop(): Promise<void>;
}

/** A long-running part of Telly (a bridge, a processor, the API) that `telly up` supervises. */
export interface Component {
  name: string;
  start(ctx: ComponentContext): Promise<RunningComponent>;
}

export function defineComponent(component: Component): Component {
  return component;
}
