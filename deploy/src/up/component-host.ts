// Entry of a component child process: `node component-host.ts <module> [exportName]`.
// Starts the component, answers the supervisor's health/metrics requests over IPC, and drains
// it on `stop`, SIGTERM, or when the supervisor goes away.
import { createLogger, createMetricsRegistry, HealthChecks, type RunningComponent } from '@telly/runtime';
import { loadComponent } from './components.ts';
import type { HostMessage, HostRequest } from './ipc.ts';

/**
 * @default how long a component whose supervisor died may drain before it exits anyway: its
 * NATS or Postgres may be gone with the supervisor, and an orphan must not linger.
 */
export const ORPHAN_DRAIN_MS = 3_000;

const [module, exportName = 'component'] = process.argv.slice(2);
if (!module || !process.send) {
  console.error('usage: component-host.ts <module> [exportName] (run by telly up, with an IPC channel)');
  process.exit(2);
}
const send = (message: HostMessage) => process.send?.(message);

const component = await loadComponent({ name: module, module, exportName }).catch((err: unknown) => {
  send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
const logger = createLogger(component.name);
const metrics = createMetricsRegistry(component.name);
const health = new HealthChecks();

let stopping: Promise<void> | undefined;
let running: RunningComponent | undefined;
const stop = () => {
  stopping ??= (async () => {
    logger.info('draining');
    await running?.stop();
    logger.info('stopped');
    process.exit(0);
  })().catch((err: unknown) => {
    logger.error({ err }, 'stop failed');
    process.exit(1);
  });
  return stopping;
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', () => {
  logger.warn('the supervisor is gone; exiting');
  setTimeout(() => process.exit(1), ORPHAN_DRAIN_MS).unref();
  void stop();
});
process.on('message', (request: HostRequest) => {
  if (request.type === 'stop') void stop();
  else if (request.type === 'health') {
    void health.report().then((report) => send({ id: request.id, type: 'health', report }));
  } else if (request.type === 'metrics') {
    void metrics.getMetricsAsJSON().then((json) => send({ id: request.id, type: 'metrics', metrics: json }));
  }
});

try {
  running = await component.start({ name: component.name, env: process.env, logger, metrics, health });
  send({ type: 'ready', endpoints: running.endpoints });
} catch (err) {
  logger.error({ err }, 'failed to start');
  send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
