// A CoAP bridge in a process of its own, as `telly up` runs it, for tests that SIGKILL it:
// `node bridge-process.ts` with NATS_URL and TELLY_COAP_PORT set; prints `ready` once listening.
import { createLogger, createMetricsRegistry, HealthChecks } from '@telly/runtime';
import { component } from '../component.ts';

const running = await component.start({
  name: component.name,
  env: process.env,
  logger: createLogger(component.name, { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }),
  metrics: createMetricsRegistry(component.name),
  health: new HealthChecks(),
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => void running.stop().then(() => process.exit(0)));
