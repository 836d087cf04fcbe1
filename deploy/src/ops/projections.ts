// `telly replay` and `telly verify`: rebuild a projection from the log, or compare it with the
// log, against the running platform's NATS and Postgres.
import { parseArgs } from 'node:util';
import { DeadLetterQueue } from '@telly/runtime';
import {
  type ReplayProgress,
  replayTelemetry,
  TELEMETRY_PG,
  type UnstorableEntry,
  type VerifyReport,
  verifyTelemetry,
} from '@telly/telemetry-pg';
import cliProgress from 'cli-progress';
import { isUsageError, UsageError } from '../usage-error.ts';
import { withPlatform } from './platform.ts';

/** Projections these commands can rebuild and verify. */
export const REPLAYABLE = [TELEMETRY_PG] as const;

export const REPLAY_USAGE = `usage: telly replay <projection> [--from-seq N | --from-time ISO-8601]
       telly verify <projection>

projections: ${REPLAYABLE.join(', ')}

replay  rebuilds the projection from the log into fresh tables while the platform keeps
        running, then swaps them in atomically; rows of messages before --from-seq /
        --from-time (or older than the log's retention) are kept as they are
verify  compares the projection with the log (counts and checksums per thing and day, and
        the rollups against the raw rows); exits 1 when anything differs

NATS_URL / DATABASE_URL select the platform; without them, the one \`telly up\` runs here`;

function projectionOf(positionals: string[]): string {
  const projection = positionals[1];
  if (!projection) throw new UsageError('which projection?');
  if (!(REPLAYABLE as readonly string[]).includes(projection))
    throw new UsageError(`cannot replay ${projection}; projections: ${REPLAYABLE.join(', ')}`);
  return projection;
}

/** A progress bar on a terminal, a line every few seconds otherwise. */
function progressReporter(): { update(p: ReplayProgress): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: '{phase} |{bar}| {value}/{total} msgs · {rate} msg/s · ETA {eta_formatted}',
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = { phase: p.phase.padEnd(8), rate: Math.round(p.rate) };
        if (!started) {
          bar.start(p.targetSeq, p.seq, payload);
          started = true;
        }
        bar.setTotal(Math.max(p.targetSeq, 1));
        bar.update(p.seq, payload);
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(p) {
      if (Date.now() - last < 2_000 && p.phase !== 'done') return;
      last = Date.now();
      const eta = p.etaSeconds === undefined ? '' : ` · ETA ${Math.ceil(p.etaSeconds)} s`;
      process.stderr.write(`${p.phase} ${p.seq}/${p.targetSeq} msgs · ${Math.round(p.rate)} msg/s${eta}\n`);
    },
    stop() {},
  };
}

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'from-seq': { type: 'string' }, 'from-time': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(REPLAY_USAGE);
    return 0;
  }
  try {
    projectionOf(positionals);
    if (values['from-seq'] && values['from-time'])
      throw new UsageError('give --from-seq or --from-time, not both');
    const fromSeq = values['from-seq'] === undefined ? undefined : Number(values['from-seq']);
    if (fromSeq !== undefined && !(Number.isInteger(fromSeq) && fromSeq >= 1))
      throw new UsageError('--from-seq must be a stream sequence (a positive integer)');
    const fromTime = values['from-time'] === undefined ? undefined : new Date(values['from-time']);
    if (fromTime && Number.isNaN(fromTime.getTime()))
      throw new UsageError('--from-time must be an ISO-8601 instant, e.g. 2026-11-01T00:00:00Z');
    const progress = progressReporter();
    const report = await withPlatform(({ js, pool }) =>
      replayTelemetry({ js, pool, fromSeq, fromTime, onProgress: (p) => progress.update(p) }),
    ).finally(() => progress.stop());
    const seconds = report.durationMs / 1000;
    console.log(
      [
        `replayed ${report.messages} messages (seq ${report.fromSeq}–${report.toSeq}) into ${report.points} points in ${seconds.toFixed(1)} s (${Math.round(report.messages / Math.max(seconds, 0.001))} msg/s)`,
        report.keptRows > 0 ? `kept ${report.keptRows} rows of earlier messages` : undefined,
        report.skipped > 0 ? `${report.skipped} messages were not telemetry (no points)` : undefined,
        ...unstorableLines(report),
        'swapped in: the projection now serves the rebuilt tables',
      ]
        .filter(Boolean)
        .join('\n'),
    );
    return 0;
  } catch (err) {
    if (isUsageError(err)) {
      console.error(`${err.message}\n\n${REPLAY_USAGE}`);
      return 2;
    }
    throw err;
  }
}

/** Entries no projection can store, apart from differences: each with its reason. */
function unstorableLines(report: { unstorable: number; unstorableEntries: UnstorableEntry[] }): string[] {
  return entryLines(
    'entries cannot be stored (the projection dead-lettered them; see telly dlq list)',
    report.unstorable,
    report.unstorableEntries,
  );
}

function entryLines(what: string, count: number, entries: UnstorableEntry[], limit = 10): string[] {
  if (count === 0) return [];
  return [
    `${count} ${what}:`,
    ...entries.slice(0, limit).map((e) => `  seq ${e.seq}: ${e.reason}`),
    ...(count > limit ? [`  … and ${count - limit} more`] : []),
  ];
}

export function formatVerify(report: VerifyReport, limit = 50): string {
  const lines = [
    `compared seq ${report.fromSeq}–${report.toSeq}: ${report.messages} messages, ${report.points} points`,
  ];
  if (report.rowsBeyondLog > 0)
    lines.push(`${report.rowsBeyondLog} rows are older than the log's retention (not compared)`);
  lines.push(
    ...unstorableLines(report),
    ...entryLines(
      'more entries are in the DLQ (not compared; telly dlq show, redrive)',
      report.deadLettered,
      report.deadLetteredEntries,
    ),
  );
  if (report.differences.length === 0) {
    lines.push('no differences');
    return lines.join('\n');
  }
  lines.push(
    `${report.differences.length} difference(s):`,
    'thing                                 day         what       log (count checksum)       projection',
  );
  for (const d of report.differences.slice(0, limit)) {
    lines.push(
      `${d.thingId}  ${d.day}  ${d.what.padEnd(9)}  ${String(d.log.count).padStart(6)} ${d.log.checksum.padEnd(16)}  ${String(d.projection.count).padStart(6)} ${d.projection.checksum}`,
    );
  }
  if (report.differences.length > limit) lines.push(`… and ${report.differences.length - limit} more`);
  lines.push('rebuild with: npx telly replay telemetry-pg');
  return lines.join('\n');
}

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(REPLAY_USAGE);
    return 0;
  }
  try {
    const projection = projectionOf(positionals);
    const report = await withPlatform(({ nc, js, pool }) =>
      verifyTelemetry({ js, pool, projection, deadLetters: new DeadLetterQueue(nc) }),
    );
    console.log(formatVerify(report));
    return report.differences.length === 0 ? 0 : 1;
  } catch (err) {
    if (isUsageError(err)) {
      console.error(`${err.message}\n\n${REPLAY_USAGE}`);
      return 2;
    }
    throw err;
  }
}
