// Test support: the metrics deploy/monitoring's alert rules and Grafana dashboard query.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const MONITORING_DIR = fileURLToPath(new URL('../../monitoring/', import.meta.url));

interface Dashboard {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
}

/** Every PromQL expression of the dashboard, with its variables given concrete values. */
export async function dashboardExpressions(): Promise<{ title: string; expr: string }[]> {
  const dashboard = JSON.parse(
    await readFile(`${MONITORING_DIR}grafana-dashboard.json`, 'utf8'),
  ) as Dashboard;
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      title: p.title,
      expr: t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*'),
    })),
  );
}

const SUFFIXES = /_(bucket|sum|count)$/;

/** The metric names the rules and the dashboard use (a histogram's by its own name). */
export async function monitoredMetrics(): Promise<string[]> {
  const rules = await readFile(`${MONITORING_DIR}alerts.yml`, 'utf8');
  const exprs = [rules, ...(await dashboardExpressions()).map((e) => e.expr)].join('\n');
  const names = exprs.match(/\b(telly|process|nodejs)_[a-z0-9_]+/g) ?? [];
  return [...new Set(names.map((n) => n.replace(SUFFIXES, '')))].sort();
}
