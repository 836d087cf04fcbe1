// `npm run bench -- <scenario…>|all [--short] [--runs N] [--duration D] [--out dir] [--profile]`:
// runs the scenarios, prints the table and writes bench/results/<timestamp>.{json,md} and
// latest.{json,md}. Ctrl-C stops the current scenario cleanly and writes what was measured.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isDurationError, parseDuration } from '@telly/schemas';
import { describeMachine } from './machine.ts';
import { toMarkdown } from './report/markdown.ts';
import type { BenchReport } from './report/types.ts';
import { writeReport } from './report/write.ts';
import { runScenarios } from './run.ts';
import { findScenario, SCENARIOS } from './scenarios/index.ts';
import type { Scenario, Size } from './types.ts';

const DEFAULT_OUT = fileURLToPath(new URL('../results', import.meta.url));

const USAGE = `usage: npm run bench -- <scenario…>|all [options]

scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}

  --short          minutes instead of the full sizes (all of them in under 10 minutes)
  --smoke          seconds: what the test suite runs (checks that it works, not how fast)
  --runs N         Telly/reference pairs for mqtt-ingest and http-ingest (default 3 short, 5 full)
  --duration D     measured window of the scenarios that run for a time, e.g. 90s, 10m
  --out DIR        where results go (default bench/results)
  --profile        write CPU profiles of Telly's Node processes and summarize their hot spots
  --nats-sync-interval V   diagnostic, not the production setting: nats-server (Telly's and the
                   reference's) with JetStream sync_interval V (e.g. 2m) instead of always
  --help           this text`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

/** `--duration`: the one duration grammar of `@telly/schemas`, a bare number in seconds. */
function durationOption(text: string): number {
  try {
    return parseDuration(text, { bareUnit: 's' });
  } catch (err) {
    if (isDurationError(err)) fail(`--duration: expected e.g. 90s or 10m (got ${text})`);
    throw err;
  }
}

const argv = process.argv.slice(2);
let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      short: { type: 'boolean' },
      smoke: { type: 'boolean' },
      runs: { type: 'string' },
      duration: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'boolean' },
      'nats-sync-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
try {
  parsed = parse();
} catch (err) {
  fail((err as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length === 0) fail('name a scenario or all');
const scenarios: Scenario[] = positionals.includes('all')
  ? [...SCENARIOS]
  : positionals.map((name) => findScenario(name) ?? fail(`unknown scenario ${name}`));
const size: Size = values.smoke ? 'smoke' : values.short ? 'short' : 'full';
const runs = values.runs === undefined ? undefined : Number(values.runs);
if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) fail('--runs: expected a positive integer');
const durationMs = values.duration === undefined ? undefined : durationOption(values.duration);
const out = values.out ?? DEFAULT_OUT;
const date = new Date().toISOString();

const aborter = new AbortController();
let signals = 0;
const onSignal = () => {
  if (++signals > 1) process.exit(130);
  console.error('stopping: cleaning up the current scenario (Ctrl-C again to quit at once)');
  aborter.abort(new Error('interrupted'));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const machine = describeMachine();
const started = performance.now();
const reports = await runScenarios(scenarios, {
  size,
  runs,
  durationMs,
  natsSyncInterval: values['nats-sync-interval'],
  signal: aborter.signal,
  profileRoot: values.profile ? `${out}/profiles/${date.replaceAll(':', '-')}` : undefined,
  log: (scenario, message) =>
    console.error(`[${new Date().toISOString().slice(11, 19)}] ${scenario}: ${message}`),
});
machine.postgres = reports.find((r) => r.result?.versions?.postgres)?.result?.versions?.postgres;
const report: BenchReport = {
  date,
  command: `npm run bench -- ${argv.join(' ')}`,
  size,
  runs,
  seconds: (performance.now() - started) / 1000,
  machine,
  settings: {
    'nats-server': values['nats-sync-interval']
      ? `DIAGNOSTIC: JetStream sync_interval ${values['nats-sync-interval']} (acks before fsync), file storage, R1`
      : 'managed by telly up, JetStream file storage, sync_interval always (fsync before every ack), R1',
    postgres: 'embedded, durable (fsync on)',
    'Telly log level': process.env.LOG_LEVEL ?? 'warn',
    measurement: 'warm-up excluded; Telly and reference runs alternated (ABBA), medians reported',
    'load generator': 'in the bench process, on the same machine',
  },
  scenarios: reports,
};
const files = await writeReport(out, report);
console.log(toMarkdown(report).split('\n\n### ')[0]);
console.error(`written: ${files.join(', ')}`);
process.exitCode = signals > 0 ? 130 : reports.some((r) => r.status === 'failed') ? 1 : 0;
