// A run as Markdown: the machine and settings, one table row per scenario (its measurement,
// the reference, the ratio and whether the target is met), then each scenario's details.
import { profileMarkdown } from '../profile.ts';
import type { Measurement, ScenarioReport } from '../types.ts';
import type { BenchReport } from './types.ts';

const number = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : String(n));
const measurement = (m: Measurement) => `${number(m.value)} ${m.unit}`;

function row(s: ScenarioReport): string {
  if (s.status === 'failed' || !s.result) {
    return `| ${s.name} | **failed**: ${(s.error ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ')} | | | ${s.target} | ✗ |`;
  }
  const r = s.result;
  const reference = `${measurement(r.reference)}${r.reference.kind === 'published' ? ' (published)' : ''}`;
  return `| ${s.name} | ${measurement(r.telly)} | ${reference} | ${r.ratio}× | ${s.target} | ${r.met ? '✓' : '✗'} ${r.verdict} |`;
}

function details(s: ScenarioReport): string {
  const lines = [`### ${s.name} — ${s.title}`, '', `Reference: ${s.reference}. Ran ${s.seconds} s.`, ''];
  if (s.disk) {
    lines.push(
      `Machine meanwhile: disk ${number(s.disk.fsyncPerSecondBefore)} fdatasync/s before it; load average (1, 5 min) ${s.disk.loadBefore.join(', ')} before, ${s.disk.loadAfter.join(', ')} after.`,
      '',
    );
  }
  if (s.result) {
    lines.push(`Telly: ${s.result.telly.label}; reference: ${s.result.reference.label}.`, '');
    lines.push('```json', JSON.stringify(s.result.details, null, 2), '```');
  } else {
    lines.push(`Failed: ${s.error}`);
  }
  if (s.profile?.length) lines.push('', '#### CPU profile (Telly processes)', '', profileMarkdown(s.profile));
  return lines.join('\n');
}

export function toMarkdown(report: BenchReport): string {
  const m = report.machine;
  return [
    `# Benchmark run ${report.date}`,
    '',
    `Command: \`${report.command}\` (${report.size} size, ${Math.round(report.seconds)} s)`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os} (kernel ${m.kernel}); disk ${m.fsyncPerSecond.toLocaleString('en-US')} fdatasync/s; Node ${m.node}, nats-server ${m.natsServer}, Postgres ${m.postgres ?? 'unknown'}`,
    '',
    `Settings: ${Object.entries(report.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ')}`,
    '',
    '| Scenario | Telly | Reference | Telly ÷ reference | Target | Met |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...report.scenarios.map(row),
    '',
    ...report.scenarios.map(details),
    '',
  ].join('\n');
}
