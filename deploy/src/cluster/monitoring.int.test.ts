// deploy/monitoring checked by Prometheus' own promtool: the alert rules load and fire on the
// series they are for, the scrape config loads, and every dashboard query is valid PromQL. That
// each metric they name exists on a running instance is checked in cluster.int.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { findSystemBinary } from '@telly/harness';
import { dashboardExpressions, MONITORING_DIR, monitoredMetrics } from './monitoring.ts';

const run = promisify(execFile);
const promtool = () => findSystemBinary('promtool', 'prometheus');

test('the alert rules pass promtool check and their unit tests; the scrape config loads', async () => {
  await run(promtool(), ['check', 'rules', join(MONITORING_DIR, 'alerts.yml')]);
  const tested = await run(promtool(), ['test', 'rules', join(MONITORING_DIR, 'alerts.test.yml')]);
  assert.match(tested.stdout, /SUCCESS/);
  await run(promtool(), ['check', 'config', join(MONITORING_DIR, 'prometheus.yml')]);
});

test('every query of the Grafana dashboard is valid PromQL on Telly metrics', async () => {
  const expressions = await dashboardExpressions();
  assert.ok(expressions.length >= 10, 'the dashboard has its panels');
  const dir = await mkdtemp(join(tmpdir(), 'telly-dashboard-'));
  try {
    // promtool checks expressions as recording rules
    const rules = expressions
      .map((e, i) => `      - record: telly:dashboard_${i}\n        expr: ${JSON.stringify(e.expr)}`)
      .join('\n');
    await writeFile(join(dir, 'dashboard.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
    await run(promtool(), ['check', 'rules', join(dir, 'dashboard.yml')]).catch(
      (err: { stdout?: string }) => {
        assert.fail(`a dashboard query is not valid PromQL:\n${err.stdout}`);
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const metrics = await monitoredMetrics();
  assert.ok(
    metrics.includes('telly_processor_pending_messages') && metrics.includes('telly_bridge_ack_seconds'),
  );
});
