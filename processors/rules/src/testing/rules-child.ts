// Test support: the rules component in a process of its own (configured by the environment:
// NATS_URL, DATABASE_URL, TELLY_SMTP_URL), so a test can SIGKILL it and start it again.
import { createLogger, createMetricsRegistry, HealthChecks } from '@telly/runtime';
import { component } from '../component.ts';
import { KILL_AFTER_ALERT_COMMIT, killAfterAlertCommit } from './kill-after-commit.ts';

const armed = process.env[KILL_AFTER_ALERT_COMMIT];
if (armed) killAfterAlertCommit(armed);

const running = await component.start({
  name: 'rules',
  env: process.env,
  logger: createLogger('rules', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' }),
  metrics: createMetricsRegistry('rules'),
  health: new HealthChecks(),
});
process.send?.('started');
process.once('SIGTERM', () => void running.stop().then(() => process.exit(0)));
