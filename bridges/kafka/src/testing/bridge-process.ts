// A Kafka bridge in a process of its own, for tests that SIGKILL it: starts the component on
// process.env (NATS_URL, TELLY_KAFKA_BROKERS, …), prints `ready` once running, stops on SIGTERM.
import { createLogger, createMetricsRegistry, HealthChecks } from '@telly/runtime';
import { component } from '../component.ts';

const running = await component.start({
  name: component.name,
  env: process.env,
  logger: createLogger(component.name, { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' }),
  metrics: createMetricsRegistry(component.name),
  health: new HealthChecks(),
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  running.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
