import type { JetStreamClient } from '@nats-io/jetstream';
import { PgCheckpoint, withTransaction } from '@telly/runtime';
import { isSenmlError, isSubjectError, type LogEntry, pointsOf, type TelemetryPoint } from '@telly/schemas';
import type pg from 'pg';
import { ackFloorOf, LogReader, logBounds, seqAt } from './log.ts';
import { rawIndexDdl, telemetryDdl } from './migrations.ts';
import { Partitions } from './partitions.ts';
import { TELEMETRY_PG } from './projection.ts';
import { LIVE_TABLES, type TelemetryTables, tablesOf, telemetryTables } from './tables.ts';
import { copyPoints, deriveFromRaw, writePoints } from './write.ts';

/** Where a rebuild is, reported after every batch. */
export interface ReplayProgress {
  phase: 'copy' | 'bulk' | 'derive' | 'catch-up' | 'swap' | 'done';
  /** Last log sequence replayed. */
  seq: number;
  /** The head of the log when the current phase began. */
  targetSeq: number;
  messages: number;
  points: number;
  /** Messages per second since the replay began. */
  rate: number;
  /** Seconds left at this rate, while the target is known. */
  etaSeconds: number | undefined;
}

export interface ReplayOptions {
  pool: pg.Pool;
  js: JetStreamClient;
  /** Replay from this sequence; rows of earlier messages are kept as they are. @default the log's first */
  fromSeq?: number | undefined;
  /** Replay from the first message stored at or after this instant (rows before it are kept). */
  fromTime?: Date | undefined;
  onProgress?: (progress: ReplayProgress) => void;
  /** Messages per transaction. @default 2000 */
  batch?: number;
  /**
   * Incremental catch-up continues until the rebuild is this close to the head (or stops gaining
   * on ingest); the rest is applied inside the swap. @default 2000
   */
  maxSwapGap?: number;
  /** The projection whose tables, applied set and consumer are swapped. @default 'telemetry-pg' */
  projection?: string;
}

export interface ReplayReport {
  fromSeq: number;
  toSeq: number;
  messages: number;
  points: number;
  /** Entries that are not telemetry (images, binary): no points, as in the projection. */
  skipped: number;
  /** Rows of messages before `fromSeq` (or beyond the log's retention) carried over unchanged. */
  keptRows: number;
  durationMs: number;
  /** Where the time went, ms: reading the log, decoding SenML, writing rows, deriving, the swap. */
  timings: { readMs: number; decodeMs: number; writeMs: number; deriveMs: number; swapMs: number };
}

const SHADOW = telemetryTables('telemetry_next');
const OLD = telemetryTables('telemetry_old');

/**
 * Rebuilds the Postgres telemetry projection from the log into fresh tables beside the live
 * ones, then swaps them in atomically. The live projection (and ingest) keep running: the bulk
 * of the log is written raw and the latest values and rollups derived from it set-wise, the
 * messages stored meanwhile are caught up incrementally, and the last few are applied inside
 * the swap transaction, which holds the projection's exclusive lock, renames the tables and
 * hands the projection an applied set that matches the new tables, so no message is lost or
 * applied twice across the switch.
 */
export async function replayTelemetry(options: ReplayOptions): Promise<ReplayReport> {
  // one replay at a time: a session lock on a connection held for the whole rebuild
  const lock = await options.pool.connect();
  try {
    const { rows } = await lock.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok',
      [`telly_replay:${options.projection ?? TELEMETRY_PG}`],
    );
    if (!rows[0]?.ok) throw new ReplayBusyError(options.projection ?? TELEMETRY_PG);
    return await rebuild(options);
  } finally {
    // the lock ends with the session: a connection that failed mid-replay is not reused
    lock.release(true);
  }
}

/** Another replay of the same projection is running (in this process or another). */
export class ReplayBusyError extends Error {
  readonly code = 'REPLAY_BUSY';
  constructor(projection: string) {
    super(`a replay of ${projection} is already running`);
  }
}

async function rebuild(options: ReplayOptions): Promise<ReplayReport> {
  const { pool, js } = options;
  const started = Date.now();
  const batch = options.batch ?? 2_000;
  const bounds = await logBounds(js);
  const requested =
    options.fromSeq ?? (options.fromTime ? await seqAt(js, options.fromTime) : bounds.firstSeq);
  // rows are carried over only for messages the live projection has acked (their rows are
  // final); what it has not acked yet is replayed, even below the requested start
  const ackFloor = await ackFloorOf(js, options.projection ?? TELEMETRY_PG);
  const startSeq = Math.max(1, ackFloor === undefined ? requested : Math.min(requested, ackFloor + 1));
  const counts = { messages: 0, points: 0, skipped: 0 };
  const timings = { readMs: 0, decodeMs: 0, writeMs: 0, deriveMs: 0, swapMs: 0 };
  const timed = async <T>(key: keyof typeof timings, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      timings[key] += performance.now() - t;
    }
  };
  const report = (phase: ReplayProgress['phase'], seq: number, targetSeq: number) => {
    const rate = counts.messages / Math.max(0.001, (Date.now() - started) / 1000);
    const left = Math.max(0, targetSeq - seq);
    options.onProgress?.({
      phase,
      seq,
      targetSeq,
      ...counts,
      rate,
      etaSeconds: phase === 'bulk' || phase === 'catch-up' ? (rate > 0 ? left / rate : undefined) : 0,
    });
  };

  await createShadow(pool);
  const partitions = new Partitions(SHADOW);
  const reader = new LogReader(js, startSeq);
  const decode = (entries: LogEntry[]) => {
    const points: TelemetryPoint[] = [];
    for (const entry of entries) {
      counts.messages++;
      try {
        points.push(...pointsOf(entry));
      } catch (err) {
        if (!isSenmlError(err) && !isSubjectError(err)) throw err;
        counts.skipped++;
      }
    }
    counts.points += points.length;
    return points;
  };
  try {
    // the first entry actually read is the boundary: retention may have removed older ones by
    // now, and their rows are carried over like those before the requested start
    const first = await reader.next(batch, bounds.lastSeq);
    const fromSeq = first[0]?.seq ?? bounds.lastSeq + 1;
    report('copy', fromSeq - 1, bounds.lastSeq);
    const keptRows = await copyKept(pool, partitions, fromSeq);

    // the bulk: raw rows only, COPY'd one transaction per batch while the next batch is read
    let writing: Promise<void> = Promise.resolve();
    for (let pending: LogEntry[] | undefined = first; ; pending = undefined) {
      const entries = pending ?? (await timed('readMs', () => reader.next(batch, bounds.lastSeq)));
      if (entries.length === 0) break;
      const points = await timed('decodeMs', async () => decode(entries));
      await writing;
      writing = timed('writeMs', async () => {
        await partitions.ensure(
          pool,
          points.map((p) => p.timeMs),
        );
        await withTransaction(pool, (client) => copyPoints(client, points, SHADOW));
      });
      writing.catch(() => {}); // awaited (and thrown) before the next write or after the loop
      report('bulk', reader.lastSeq, bounds.lastSeq);
    }
    await writing;
    report('derive', reader.lastSeq, bounds.lastSeq);
    await timed('deriveMs', () =>
      Promise.all([
        ...rawIndexDdl(SHADOW).map((statement) => pool.query(statement)),
        deriveFromRaw(pool, SHADOW),
      ]),
    );

    /** Applies the log up to `seq` incrementally, each batch in a transaction `inTransaction` gives. */
    const applyUntil = async (
      seq: number,
      inTransaction: (work: (client: pg.PoolClient) => Promise<void>) => Promise<void>,
      phase: ReplayProgress['phase'],
    ) => {
      for (;;) {
        const entries = await reader.next(batch, seq);
        if (entries.length === 0) return;
        const points = decode(entries);
        await inTransaction(async (client) => {
          await partitions.ensureWithin(
            client,
            points.map((p) => p.timeMs),
          );
          await writePoints(client, points, SHADOW);
        });
        report(phase, reader.lastSeq, seq);
      }
    };

    // what was stored meanwhile, incrementally, until close enough to the head to swap
    // (while it gains on ingest: whatever is left then is applied inside the swap)
    const maxGap = options.maxSwapGap ?? 2_000;
    for (let previousGap = Number.POSITIVE_INFINITY; ; ) {
      const head = (await logBounds(js)).lastSeq;
      const gap = head - reader.lastSeq;
      if (gap <= maxGap || gap >= previousGap) break;
      previousGap = gap;
      await applyUntil(head, (work) => withTransaction(pool, work), 'catch-up');
    }

    // the switch: the live projection waits while the last messages are applied and tables swapped
    const checkpoint = new PgCheckpoint(pool, options.projection ?? TELEMETRY_PG);
    await checkpoint.migrate();
    const swapStarted = performance.now();
    await checkpoint.exclusive(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('telly_telemetry_partitions'))`);
      const { rows } = await client.query<{ last_seq: string }>(
        'SELECT last_seq FROM telly_checkpoints WHERE processor = $1',
        [checkpoint.processor],
      );
      const ackFloor = (await ackFloorOf(js, checkpoint.processor)) ?? 0;
      const until = Math.max(Number(rows[0]?.last_seq ?? 0), ackFloor);
      report('swap', reader.lastSeq, until);
      // the live projection acked everything up to `until`: the new tables must hold it all
      for (let attempt = 1; reader.lastSeq < until; attempt++) {
        if (attempt > 5) {
          throw new Error(
            `the log could not be read up to seq ${until} (stopped at ${reader.lastSeq}); nothing was swapped`,
          );
        }
        await applyUntil(until, (work) => work(client), 'swap');
      }
      await checkpoint.resetWithin(client, ackFloor, Math.max(reader.lastSeq, fromSeq - 1));
      await swapTables(client);
    });
    timings.swapMs = performance.now() - swapStarted;
    report('done', reader.lastSeq, reader.lastSeq);
    return {
      fromSeq,
      toSeq: reader.lastSeq,
      ...counts,
      keptRows,
      durationMs: Date.now() - started,
      timings: Object.fromEntries(
        Object.entries(timings).map(([k, v]) => [k, Math.round(v)]),
      ) as typeof timings,
    };
  } finally {
    await reader.close();
  }
}

/**
 * Empty tables of the same shape as the live ones, but for the raw table's indexes, created after
 * the bulk (a leftover of an interrupted replay goes).
 */
async function createShadow(pool: pg.Pool): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(`DROP TABLE IF EXISTS ${tablesOf(SHADOW).join(', ')} CASCADE`);
    await client.query(telemetryDdl(SHADOW, { rawIndexes: false }));
  });
}

/** Rows of messages before `fromSeq`, carried into the new tables unchanged. */
async function copyKept(pool: pg.Pool, partitions: Partitions, fromSeq: number): Promise<number> {
  if (fromSeq <= 1 || !(await exists(pool, LIVE_TABLES.raw))) return 0;
  const { rows: months } = await pool.query<{ month: Date }>(
    `SELECT DISTINCT date_trunc('month', time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month
       FROM ${LIVE_TABLES.raw} WHERE seq < $1`,
    [fromSeq],
  );
  await partitions.ensure(
    pool,
    months.map((m) => m.month.getTime()),
  );
  const result = await pool.query(
    `INSERT INTO ${SHADOW.raw} SELECT * FROM ${LIVE_TABLES.raw} WHERE seq < $1`,
    [fromSeq],
  );
  return result.rowCount ?? 0;
}

/**
 * Live → old, new → live, old dropped. Partitions and indexes are renamed with their tables, so
 * names keep following the months and the next replay's fresh set does not collide.
 */
async function swapTables(client: pg.PoolClient): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${tablesOf(OLD).join(', ')} CASCADE`);
  await renameSet(client, LIVE_TABLES, OLD);
  await renameSet(client, SHADOW, LIVE_TABLES);
  await client.query(`DROP TABLE IF EXISTS ${tablesOf(OLD).join(', ')} CASCADE`);
}

/** Renames a set's tables, partitions and indexes from one prefix to another (missing ones skipped). */
async function renameSet(client: pg.PoolClient, from: TelemetryTables, to: TelemetryTables): Promise<void> {
  const renamed = (name: string) => `${to.prefix}${name.slice(from.prefix.length)}`;
  const { rows } = await client.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i', 'I')
        AND (c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass($1))
             OR c.relname = ANY($2::text[])
             OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY(
                  SELECT to_regclass(t) FROM unnest($2::text[]) AS t)))`,
    [from.raw, tablesOf(from)],
  );
  for (const { name, kind } of rows) {
    if (!name.startsWith(`${from.prefix}_`) && name !== from.prefix) continue;
    const what = kind === 'i' || kind === 'I' ? 'INDEX' : 'TABLE';
    await client.query(`ALTER ${what} ${name} RENAME TO ${renamed(name)}`);
  }
}

async function exists(db: pg.Pool | pg.PoolClient, table: string): Promise<boolean> {
  const { rows } = await db.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [table]);
  return rows[0]?.oid != null;
}
