// Projection rebuild: `replayTelemetry` (what `telly replay telemetry-pg` runs) rebuilds the
// Postgres telemetry projection from a log of 1M messages (3-record SenML packs); the reference
// is Postgres' own server-side COPY of the very rows that rebuild produced, into a table of the
// same shape — the fastest those rows can get into Postgres. The replay also derives the latest
// values and both rollups, which COPY does not. nats-server is started without per-write fsync
// here (the log is only read), Postgres with its defaults, both on this machine.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { NatsServer, PostgresServer } from '@telly/harness';
import { createLogger, createPgPool, ensureTopology, runMigrations, runtimeMigrations } from '@telly/runtime';
import { messageSubject } from '@telly/schemas';
import {
  createTelemetryTables,
  Partitions,
  replayTelemetry,
  TELEMETRY_TABLES,
  telemetryMigrations,
  telemetryTables,
} from '@telly/telemetry-pg';
import { TreeMonitor } from '../lib/process-tree.ts';
import { ratioVerdict } from '../lib/ratio.ts';
import { median } from '../lib/stats.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_RATIO = 0.7;
const RECORDS = 3;
/** Publishes in flight while filling the log. */
const WINDOW = 2_000;

const SIZES: Record<Size, { messages: number; runs: number }> = {
  smoke: { messages: 2_000, runs: 1 },
  short: { messages: 100_000, runs: 3 },
  full: { messages: 1_000_000, runs: 3 },
};

const TENANT = '0191e5a0-0000-7000-8000-0000000000b0';
const CHANNEL = '0191e5a0-0000-7000-8000-0000000000b1';
const COPY_TABLES = telemetryTables('telemetry_copy');

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const runs = ctx.runs ?? size.runs;
  const logger = createLogger('bench-rebuild', { LOG_LEVEL: 'error' });
  await using nats = await NatsServer.start({ syncInterval: ctx.natsSyncInterval ?? '2m' });
  await using postgres = await PostgresServer.start();
  const nc = await connect({ servers: nats.url });
  const pool = createPgPool({ connectionString: postgres.url(), max: 4 }, logger);
  const scratch = await mkdtemp(join(tmpdir(), 'telly-bench-copy-'));
  await chmod(scratch, 0o777); // the server (the postgres user) writes the COPY file here
  try {
    await ensureTopology(nc, await jetstreamManager(nc));
    await runMigrations(pool, runtimeMigrations, telemetryMigrations);
    const js = jetstream(nc);
    ctx.log(`filling the log with ${size.messages} messages`);
    const things = Array.from(
      { length: 100 },
      (_, i) => `0191e5a0-0000-7000-8000-${String(i).padStart(12, '0')}`,
    );
    const t0 = Math.floor(Date.now() / 1000) - size.messages; // one pack per second of the past
    const inflight = new Set<Promise<unknown>>();
    for (let i = 0; i < size.messages; i++) {
      ctx.signal.throwIfAborted();
      const h = natsHeaders();
      h.set('Content-Type', 'application/senml+json');
      h.set('Telly-Received', String((t0 + i) * 1000));
      const thing = things[i % things.length] as string;
      const body = JSON.stringify([
        { n: 'temperature', u: 'Cel', v: 20 + (i % 50) / 10, t: t0 + i },
        { n: 'humidity', u: '%RH', v: 40 + (i % 30), t: t0 + i },
        { n: 'soil', u: '%', v: 10 + (i % 70), t: t0 + i },
      ]);
      const p = js.publish(messageSubject({ tenant: TENANT, channel: CHANNEL, thing }), body, {
        headers: h,
        msgID: `${thing}:${i}`,
      });
      inflight.add(p);
      p.finally(() => inflight.delete(p));
      if (inflight.size >= WINDOW) await Promise.race(inflight);
    }
    await Promise.all(inflight);

    const monitor = new TreeMonitor([process.pid, postgres.process.pid ?? 0]);
    const replays: number[] = [];
    const copies: number[] = [];
    let rows = 0;
    let lastReport: Awaited<ReturnType<typeof replayTelemetry>> | undefined;
    let cpu: ReturnType<TreeMonitor['stop']> | undefined;
    for (let run = 0; run < runs; run++) {
      ctx.log(`run ${run + 1}/${runs}: replay`);
      await pool.query(`TRUNCATE ${TELEMETRY_TABLES.join(', ')}`);
      await pool.query('CHECKPOINT');
      if (run === 0) monitor.start();
      const started = performance.now();
      lastReport = await replayTelemetry({ pool, js, batch: 5_000 });
      const replaySeconds = (performance.now() - started) / 1000;
      if (run === 0) cpu = monitor.stop();
      const { rows: counted } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
      rows = Number(counted[0]?.n);
      if (rows !== size.messages * RECORDS)
        throw new Error(`rebuilt ${rows} rows, expected ${size.messages * RECORDS}`);
      replays.push(rows / replaySeconds);

      ctx.log(`run ${run + 1}/${runs}: COPY of the same rows`);
      const file = join(scratch, 'telemetry.copy');
      await pool.query(`COPY (SELECT * FROM telemetry) TO '${file}' (FORMAT binary)`);
      await createTelemetryTables(pool, COPY_TABLES);
      const { rows: bounds } = await pool.query<{ min: Date; max: Date }>(
        'SELECT min(time), max(time) FROM telemetry',
      );
      await new Partitions(COPY_TABLES).ensure(pool, [bounds[0]!.min.getTime(), bounds[0]!.max.getTime()]);
      await pool.query('CHECKPOINT');
      const copyStarted = performance.now();
      const copied = await pool.query(`COPY ${COPY_TABLES.raw} FROM '${file}' (FORMAT binary)`);
      const copySeconds = (performance.now() - copyStarted) / 1000;
      if (copied.rowCount !== rows) throw new Error(`COPY loaded ${copied.rowCount} rows of ${rows}`);
      copies.push(rows / copySeconds);
      await rm(file, { force: true });
    }
    const replayRate = median(replays);
    const copyRate = median(copies);
    return {
      ...ratioVerdict(
        { label: 'replay', referenceLabel: 'COPY of the same rows', unit: 'rows/s' },
        Math.round(replayRate),
        Math.round(copyRate),
        TARGET_RATIO,
      ),
      details: {
        settings: { messages: size.messages, recordsPerMessage: RECORDS, rows, runs, batch: 5_000 },
        replayRowsPerSecond: replays.map(Math.round),
        copyRowsPerSecond: copies.map(Math.round),
        replayMessagesPerSecond: Math.round(replayRate / RECORDS),
        lastReplay: lastReport,
        cpuFirstReplay: cpu,
        note: 'the replay also derives telemetry_latest and the 1m/1h rollups; COPY loads raw rows only',
      },
      versions: { natsServer: nats.version },
    };
  } finally {
    await pool.end();
    await nc.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

export const rebuild: Scenario = {
  name: 'rebuild',
  title: 'Projection rebuild into Postgres',
  target: `≥ ${TARGET_RATIO}× raw COPY`,
  reference: 'Postgres COPY of the same rows into a table of the same shape, same run',
  run: runScenario,
};
