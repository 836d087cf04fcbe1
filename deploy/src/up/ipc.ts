import type { Endpoint, HealthReport } from '@telly/runtime';
import type { Registry } from 'prom-client';

/** Supervisor → component child. */
export type HostRequest = { id: number; type: 'health' } | { id: number; type: 'metrics' } | { type: 'stop' };

/** Component child → supervisor. */
export type HostMessage =
  | { type: 'ready'; endpoints: Endpoint[] }
  | { type: 'failed'; error: string }
  | { id: number; type: 'health'; report: HealthReport }
  | { id: number; type: 'metrics'; metrics: MetricsJson };

/** A registry's metrics as JSON, the form prom-client's AggregatorRegistry merges. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Supervisor → guardian: the servers to stop if the supervisor dies without stopping them. */
export type GuardianMessage =
  | { type: 'watch'; name: string; pid: number; signal: NodeJS.Signals }
  | { type: 'release' };
