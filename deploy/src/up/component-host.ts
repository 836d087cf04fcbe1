// Entry of a component child process: `node component-host.ts <module> [exportName]`.
// Starts the component, answers the supervisor's health/metrics requests over IPC, and drains
// it on `stop` or SIGTERM.
import { type Component, createLogger, createMetricsRegistry, HealthChecks } from '@telly/runtime';
import type { HostMessage, HostRequest } from './ipc.ts';

const [specifier, exportName = 'component'] = process.argv.slice(2);
if (!specifier || !process.send) {
  console.error('usage: component-host.ts <module> [exportName] (run by telly up, with an IPC channel)');
  process.exit(2);
}
const send = (message: HostMessage) => process.send?.(message);

const mod = (await import(specifier)) as Record<string, Component | undefined>;
const component = mod[exportName];
if (!component) {
  send({ type: 'failed', error: `${specifier} has no export ${exportName}` });
  process.exit(1);
}
const logger = createLogger(component.name);
const metrics = createMetricsRegistry(component.name);
const health = new HealthChecks();

let stopping: Promise<void> | undefined;
let running: Awaited<ReturnType<Component['start']>> | undefined;
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
process.on('disconnect', stop); // the supervisor is gone: do not linger as an orphan
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
  send({ type: 'ready' });
} catch (err) {
  logger.error({ err }, 'failed to start');
  send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
