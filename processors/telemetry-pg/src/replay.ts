import type { JetStreamClient } from '@nats-io/jetstream';
import { ackFloorOf, LogReader, logBounds, PgCheckpoint, seqAt } from '@telly/runtime';
import { TellyError } from '@telly/schemas';
import type pg from 'pg';
import { Partitions } from './partitions.ts';
import { TELEMETRY_PG } from './projection.ts';
import { bulkLoad, catchUp, derive, type Rebuild, swapIn } from './replay/phases.ts';
import { copyKept, createShadow, SHADOW } from './replay/shadow.ts';
import { type ReplayProgress, ReplayStats, type ReplayTimings } from './replay/stats.ts';
import type { UnstorableEntry } from './unstorable.ts';

export type { ReplayProgress, ReplayTimings } from './replay/stats.ts';

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
  /**
   * Telemetry entries no projection can store (the live projection dead-lettered them): not
   * written, counted here and the first 100 listed with their reason.
   */
  unstorable: number;
  unstorableEntries: UnstorableEntry[];
  /** Rows of messages before `fromSeq` (or beyond the log's retention) carried over unchanged. */
  keptRows: number;
  durationMs: number;
  timings: ReplayTimings;
}

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
export class ReplayBusyError extends TellyError<'REPLAY_BUSY'> {
  constructor(projection: string) {
    super('REPLAY_BUSY', `a replay of ${projection} is already running`);
  }
}

/**
 * The phases, in order: copy (rows kept from before the start), bulk (raw rows), derive
 * (indexes, latest values, rollups), catch-up (what was stored meanwhile), swap.
 */
async function rebuild(options: ReplayOptions): Promise<ReplayReport> {
  const { pool, js } = options;
  const projection = options.projection ?? TELEMETRY_PG;
  const stats = new ReplayStats(options.onProgress);
  const bounds = await logBounds(js);
  const startSeq = await startOf(options, bounds.firstSeq, projection);
  const rawIndexes = await createShadow(pool);
  const r: Rebuild = {
    pool,
    js,
    reader: new LogReader(js, startSeq),
    partitions: new Partitions(SHADOW),
    rawIndexes,
    stats,
    batch: options.batch ?? 2_000,
  };
  try {
    // the first entry actually read is the boundary: retention may have removed older ones by
    // now, and their rows are carried over like those before the requested start
    const first = await r.reader.next(r.batch, bounds.lastSeq);
    const fromSeq = first[0]?.seq ?? bounds.lastSeq + 1;
    stats.report('copy', fromSeq - 1, bounds.lastSeq);
    const keptRows = await copyKept(pool, r.partitions, fromSeq);
    await bulkLoad(r, first, bounds.lastSeq);
    await derive(r, bounds.lastSeq);
    await catchUp(r, options.maxSwapGap ?? 2_000);
    await swapIn(r, new PgCheckpoint(pool, projection), fromSeq);
    stats.report('done', r.reader.lastSeq, r.reader.lastSeq);
    return {
      fromSeq,
      toSeq: r.reader.lastSeq,
      ...stats.counts,
      unstorable: stats.unstorable.count,
      unstorableEntries: stats.unstorable.listed,
      keptRows,
      durationMs: stats.durationMs,
      timings: stats.timings,
    };
  } finally {
    await r.reader.close();
  }
}

/**
 * Where to start reading: the requested sequence (or time, or the log's first), but never above
 * what the live projection has acked. Rows are carried over only for messages it acked (their
 * rows are final); what it has not acked yet is replayed, even below the requested start.
 */
async function startOf(options: ReplayOptions, firstSeq: number, projection: string): Promise<number> {
  const requested =
    options.fromSeq ?? (options.fromTime ? await seqAt(options.js, options.fromTime) : firstSeq);
  const ackFloor = await ackFloorOf(options.js, projection);
  return Math.max(1, ackFloor === undefined ? requested : Math.min(requested, ackFloor + 1));
}
