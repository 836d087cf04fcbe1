import type { JetStreamClient } from '@nats-io/jetstream';
import { ackFloorOf, type LogReader, logBounds, type PgCheckpoint, withTransaction } from '@telly/runtime';
import type { LogEntry, TelemetryPoint } from '@telly/schemas';
import type pg from 'pg';
import type { Partitions } from '../partitions.ts';
import { copyPoints, deriveFromRaw, isUnstorableRowError, writePoints } from '../write.ts';
import { SHADOW, swapTables } from './shadow.ts';
import type { ReplayProgress, ReplayStats } from './stats.ts';

/** What the phases of one rebuild share: the log being read and the fresh tables being filled. */
export interface Rebuild {
  pool: pg.Pool;
  js: JetStreamClient;
  reader: LogReader;
  /** The fresh set's partitions. */
  partitions: Partitions;
  /** The fresh raw table's indexes, created once its bulk is in (`createShadow`). */
  rawIndexes: string[];
  stats: ReplayStats;
  /** Messages per transaction. */
  batch: number;
}

/**
 * The bulk, up to `untilSeq`: raw rows only, COPY'd one transaction per batch while the next
 * batch is read. `first` is the batch already read.
 */
export async function bulkLoad(r: Rebuild, first: LogEntry[], untilSeq: number): Promise<void> {
  let writing: Promise<void> = Promise.resolve();
  for (let pending: LogEntry[] | undefined = first; ; pending = undefined) {
    const entries = pending ?? (await r.stats.timed('readMs', () => r.reader.next(r.batch, untilSeq)));
    if (entries.length === 0) break;
    const points = await r.stats.timed('decodeMs', async () => r.stats.decode(entries));
    await writing;
    writing = r.stats.timed('writeMs', async () => {
      await r.partitions.ensure(
        r.pool,
        points.map((p) => p.timeMs),
      );
      await withTransaction(r.pool, (client) =>
        writeOrReport(r, client, points, (rows) => copyPoints(client, rows, SHADOW)),
      );
    });
    writing.catch(() => {}); // awaited (and thrown) before the next write or after the loop
    r.stats.report('bulk', r.reader.lastSeq, untilSeq);
  }
  await writing;
}

/** The raw table's indexes, and the latest values and rollups derived set-wise from the raw rows. */
export async function derive(r: Rebuild, targetSeq: number): Promise<void> {
  r.stats.report('derive', r.reader.lastSeq, targetSeq);
  await r.stats.timed('deriveMs', () =>
    Promise.all([...r.rawIndexes.map((statement) => r.pool.query(statement)), deriveFromRaw(r.pool, SHADOW)]),
  );
}

/**
 * What was stored meanwhile, incrementally, until the rebuild is within `maxGap` of the head
 * or stops gaining on ingest: whatever is left then is applied inside the swap.
 */
export async function catchUp(r: Rebuild, maxGap: number): Promise<void> {
  for (let previousGap = Number.POSITIVE_INFINITY; ; ) {
    const head = (await logBounds(r.js)).lastSeq;
    const gap = head - r.reader.lastSeq;
    if (gap <= maxGap || gap >= previousGap) return;
    previousGap = gap;
    await applyUntil(r, head, (work) => withTransaction(r.pool, work), 'catch-up');
  }
}

/**
 * The switch: holding the projection's exclusive lock (the live projection waits), applies the
 * last messages, hands the projection an applied set that matches the new tables and swaps the
 * tables in, so no message is lost or applied twice across it. Refuses to swap unless the log
 * was read up to what the live projection has acked.
 */
export async function swapIn(r: Rebuild, checkpoint: PgCheckpoint, fromSeq: number): Promise<void> {
  await r.stats.timed('swapMs', () =>
    checkpoint.exclusive(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('telly_telemetry_partitions'))`);
      const ackFloor = (await ackFloorOf(r.js, checkpoint.processor)) ?? 0;
      const until = Math.max(await checkpoint.lastSeq(client), ackFloor);
      r.stats.report('swap', r.reader.lastSeq, until);
      // the live projection acked everything up to `until`: the new tables must hold it all
      for (let attempt = 1; r.reader.lastSeq < until; attempt++) {
        if (attempt > 5) {
          throw new Error(
            `the log could not be read up to seq ${until} (stopped at ${r.reader.lastSeq}); nothing was swapped`,
          );
        }
        await applyUntil(r, until, (work) => work(client), 'swap');
      }
      await checkpoint.resetWithin(client, ackFloor, Math.max(r.reader.lastSeq, fromSeq - 1));
      await swapTables(client);
    }),
  );
}

/** Applies the log up to `seq` incrementally, each batch in a transaction `inTransaction` gives. */
async function applyUntil(
  r: Rebuild,
  seq: number,
  inTransaction: (work: (client: pg.PoolClient) => Promise<void>) => Promise<void>,
  phase: ReplayProgress['phase'],
): Promise<void> {
  for (;;) {
    const entries = await r.reader.next(r.batch, seq);
    if (entries.length === 0) return;
    const points = r.stats.decode(entries);
    await inTransaction(async (client) => {
      await r.partitions.ensureWithin(
        client,
        points.map((p) => p.timeMs),
      );
      await writeOrReport(r, client, points, (rows) => writePoints(client, rows, SHADOW));
    });
    r.stats.report(phase, r.reader.lastSeq, seq);
  }
}

/**
 * Writes a batch's points with `write` inside the caller's transaction. Should Postgres refuse
 * a value of an entry that `checkStorable` let through, the batch is written again entry by
 * entry, each under a savepoint, and the entries Postgres refuses are reported as unstorable
 * (as the live projection dead-letters them) instead of failing the replay.
 */
async function writeOrReport(
  r: Rebuild,
  client: pg.PoolClient,
  points: TelemetryPoint[],
  write: (points: TelemetryPoint[]) => Promise<void>,
): Promise<void> {
  if ((await savepoint(client, 'telly_batch', () => write(points))) === true) return;
  const bySeq = Map.groupBy(points, (p) => p.seq);
  for (const [seq, entry] of bySeq) {
    const written = await savepoint(client, 'telly_entry', () => write(entry));
    if (written !== true) r.stats.refused(seq, entry.length, written.message);
  }
}

/** Runs `work` under a savepoint: true when done, Postgres' refusal of the data when rolled back. */
async function savepoint(
  client: pg.PoolClient,
  name: string,
  work: () => Promise<void>,
): Promise<true | Error> {
  await client.query(`SAVEPOINT ${name}`);
  try {
    await work();
  } catch (err) {
    if (!isUnstorableRowError(err)) throw err;
    await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
    return err as Error;
  }
  await client.query(`RELEASE SAVEPOINT ${name}`);
  return true;
}
