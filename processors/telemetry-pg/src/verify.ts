import { createHash } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  ackFloorOf,
  type DeadLetterQueue,
  LogReader,
  logBounds,
  PgCheckpoint,
  telemetryBatch,
  withTransaction,
} from '@telly/runtime';
import { type LogEntry, STREAMS } from '@telly/schemas';
import type pg from 'pg';
import { TELEMETRY_PG } from './projection.ts';
import { LIVE_TABLES } from './tables.ts';
import { UnstorableEntries, type UnstorableEntry } from './unstorable.ts';

/** Count and order-independent checksum of the points of one thing on one UTC day. */
export interface DayTally {
  count: number;
  checksum: string;
}

export interface Difference {
  thingId: string;
  /** UTC day, `2026-11-21`. */
  day: string;
  /** What differs: the raw points, or a rollup's counts against the raw rows. */
  what: 'points' | 'rollup_1m' | 'rollup_1h';
  log: DayTally;
  projection: DayTally;
}

export interface VerifyReport {
  /** The log range compared: its first entry up to what the projection has acked. */
  fromSeq: number;
  toSeq: number;
  messages: number;
  points: number;
  /** Rows of messages older than the log's retention: nothing to compare them with. */
  rowsBeyondLog: number;
  /**
   * Telemetry entries no projection can store (the live projection dead-lettered them): not
   * differences, counted here and the first 100 listed with their reason.
   */
  unstorable: number;
  unstorableEntries: UnstorableEntry[];
  /**
   * Other entries the projection gave up on, still in its DLQ (with `deadLetters`), with the
   * DLQ's reason: left out of the comparison, counted here and the first 100 listed.
   */
  deadLettered: number;
  deadLetteredEntries: UnstorableEntry[];
  differences: Difference[];
}

export interface VerifyOptions {
  pool: pg.Pool;
  js: JetStreamClient;
  /** @default 'telemetry-pg' */
  projection?: string;
  onProgress?: (seq: number, targetSeq: number) => void;
  /**
   * The DLQ: entries the projection dead-lettered (a value only Postgres refused, retries spent)
   * are then reported as `deadLettered` instead of as differences. @default none
   */
  deadLetters?: DeadLetterQueue;
}

const MASK = (1n << 64n) - 1n;

/**
 * Compares the projection with the log: every point the log's messages decode to, up to what
 * the projection's consumer has acked, against the rows, as counts and checksums per thing and
 * day; and the rollups' counts against the raw rows. Read-only; runs beside the live projection.
 */
export async function verifyTelemetry(options: VerifyOptions): Promise<VerifyReport> {
  const { pool, js } = options;
  const bounds = await logBounds(js);
  const toSeq = Math.min(await appliedUpTo(pool, js, options.projection ?? TELEMETRY_PG), bounds.lastSeq);
  const log = new Map<string, { count: number; sum: bigint }>();
  let messages = 0;
  let points = 0;
  const unstorable = new UnstorableEntries();
  const deadLettered = new UnstorableEntries();
  const inDlq = await deadLetteredSeqs(options.deadLetters, options.projection ?? TELEMETRY_PG);
  const reader = new LogReader(js, Math.max(bounds.firstSeq, 1));
  // the first entry actually read is where the comparison starts: retention may have removed
  // older ones meanwhile, and their rows count as beyond the log, not as differences
  let fromSeq = toSeq + 1;
  try {
    const first = await reader.next(5_000, toSeq);
    fromSeq = first[0]?.seq ?? fromSeq;
    for (let pending: LogEntry[] | undefined = first; ; pending = undefined) {
      const entries = pending ?? (await reader.next(5_000, toSeq));
      if (entries.length === 0) break;
      messages += entries.length;
      // not telemetry: no points, as in the projection; unstorable: reported apart
      const batch = telemetryBatch(entries);
      for (const { seq, reason } of batch.deadLetters.filter((d) => d.unstorable))
        unstorable.add({ seq, reason });
      const noPoints = new Set(batch.deadLetters.map((d) => d.seq));
      for (const entry of entries) {
        const reason = inDlq.get(entry.seq);
        if (reason !== undefined && !noPoints.has(entry.seq)) deadLettered.add({ seq: entry.seq, reason });
      }
      for (const p of batch.points.filter((point) => !inDlq.has(point.seq))) {
        points++;
        tally(log, p.thingId, p.timeMs, fingerprint(p));
      }
      options.onProgress?.(reader.lastSeq, toSeq);
    }
  } finally {
    await reader.close();
  }
  const rows = await projectedTallies(pool, fromSeq, toSeq);
  const differences = compare(log, rows, 'points');
  const { rows: beyond } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${LIVE_TABLES.raw} WHERE seq < $1`,
    [fromSeq],
  );
  for (const rollup of LIVE_TABLES.rollups) {
    differences.push(...(await rollupDifferences(pool, rollup.table)));
  }
  return {
    fromSeq,
    toSeq,
    messages,
    points,
    rowsBeyondLog: Number(beyond[0]?.n ?? 0),
    unstorable: unstorable.count,
    unstorableEntries: unstorable.listed,
    deadLettered: deadLettered.count,
    deadLetteredEntries: deadLettered.listed,
    differences,
  };
}

/** The identity and content of a point, as one canonical string (the same from a row). */
function fingerprint(p: {
  tenantId: string;
  channelId: string;
  thingId: string;
  subtopic: string;
  name: string;
  unit: string | null | undefined;
  timeMs: number;
  value: number | null | undefined;
  stringValue: string | null | undefined;
  boolValue: boolean | null | undefined;
  dataValue: string | null | undefined;
  sum: number | null | undefined;
  seq: number;
  index: number;
}): string {
  return [
    p.tenantId,
    p.channelId,
    p.thingId,
    p.subtopic,
    p.name,
    p.unit ?? '',
    p.timeMs,
    p.value ?? '',
    p.stringValue ?? '',
    p.boolValue ?? '',
    p.dataValue ?? '',
    p.sum ?? '',
    p.seq,
    p.index,
  ].join('\u0000');
}

function tally(
  into: Map<string, { count: number; sum: bigint }>,
  thingId: string,
  timeMs: number,
  print: string,
) {
  const key = `${thingId} ${new Date(timeMs).toISOString().slice(0, 10)}`;
  const t = into.get(key) ?? { count: 0, sum: 0n };
  t.count++;
  t.sum = (t.sum + createHash('sha256').update(print).digest().readBigUInt64BE(0)) & MASK;
  into.set(key, t);
}

/** The rows' tallies, read through a cursor so a large table is never held in memory. */
async function projectedTallies(pool: pg.Pool, fromSeq: number, toSeq: number) {
  const out = new Map<string, { count: number; sum: bigint }>();
  await withTransaction(pool, async (client) => {
    await client.query(
      `DECLARE verify_rows NO SCROLL CURSOR FOR
         SELECT tenant_id, channel_id, thing_id, subtopic, name, unit, time, value, string_value, bool_value,
                data_value, sum, seq, idx
           FROM ${LIVE_TABLES.raw} WHERE seq BETWEEN $1 AND $2`,
      [fromSeq, toSeq],
    );
    for (;;) {
      const { rows } = await client.query<{
        tenant_id: string;
        channel_id: string;
        thing_id: string;
        subtopic: string;
        name: string;
        unit: string | null;
        time: Date;
        value: number | null;
        string_value: string | null;
        bool_value: boolean | null;
        data_value: string | null;
        sum: number | null;
        seq: string;
        idx: number;
      }>('FETCH 10000 FROM verify_rows');
      if (rows.length === 0) break;
      for (const r of rows) {
        const timeMs = r.time.getTime();
        tally(
          out,
          r.thing_id,
          timeMs,
          fingerprint({
            tenantId: r.tenant_id,
            channelId: r.channel_id,
            thingId: r.thing_id,
            subtopic: r.subtopic,
            name: r.name,
            unit: r.unit,
            timeMs,
            value: r.value,
            stringValue: r.string_value,
            boolValue: r.bool_value,
            dataValue: r.data_value,
            sum: r.sum,
            seq: Number(r.seq),
            index: r.idx,
          }),
        );
      }
    }
  });
  return out;
}

function compare(
  log: Map<string, { count: number; sum: bigint }>,
  projection: Map<string, { count: number; sum: bigint }>,
  what: Difference['what'],
): Difference[] {
  const out: Difference[] = [];
  const show = (t: { count: number; sum: bigint } | undefined): DayTally => ({
    count: t?.count ?? 0,
    checksum: (t?.sum ?? 0n).toString(16).padStart(16, '0'),
  });
  for (const key of new Set([...log.keys(), ...projection.keys()])) {
    const a = log.get(key);
    const b = projection.get(key);
    if (a?.count === b?.count && a?.sum === b?.sum) continue;
    const [thingId = '', day = ''] = key.split(' ');
    out.push({ thingId, day, what, log: show(a), projection: show(b) });
  }
  return out.sort((x, y) => x.thingId.localeCompare(y.thingId) || x.day.localeCompare(y.day));
}

/** Per thing and day, the rollup's counts against the numeric raw rows they summarize. */
async function rollupDifferences(pool: pg.Pool, table: string): Promise<Difference[]> {
  const { rows } = await pool.query<{ thing_id: string; day: string; raw: string; rolled: string }>(
    `WITH raw AS (
       SELECT thing_id, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS n
         FROM ${LIVE_TABLES.raw} WHERE value IS NOT NULL GROUP BY 1, 2),
     rolled AS (
       SELECT thing_id, to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, sum(count) AS n
         FROM ${table} GROUP BY 1, 2)
     SELECT coalesce(raw.thing_id, rolled.thing_id) AS thing_id, coalesce(raw.day, rolled.day) AS day,
            coalesce(raw.n, 0) AS raw, coalesce(rolled.n, 0) AS rolled
       FROM raw FULL JOIN rolled ON raw.thing_id = rolled.thing_id AND raw.day = rolled.day
      WHERE coalesce(raw.n, 0) <> coalesce(rolled.n, 0)`,
  );
  const what = table.endsWith('_1m') ? 'rollup_1m' : 'rollup_1h';
  return rows.map((r) => ({
    thingId: r.thing_id,
    day: r.day,
    what,
    log: { count: Number(r.raw), checksum: '' },
    projection: { count: Number(r.rolled), checksum: '' },
  }));
}

/** The MESSAGES sequences in the projection's DLQ, with the reason it gave up on each. */
async function deadLetteredSeqs(
  dlq: DeadLetterQueue | undefined,
  projection: string,
): Promise<Map<number, string>> {
  const seqs = new Map<number, string>();
  if (dlq === undefined) return seqs;
  for (let after = 0; ; ) {
    const page = await dlq.list({ processor: projection, after, first: 500 });
    for (const d of page.items) if (d.stream === STREAMS.MESSAGES.name) seqs.set(d.originalSeq, d.reason);
    const last = page.items.at(-1);
    if (!page.hasNextPage || last === undefined) return seqs;
    after = last.seq;
  }
}

/** What the projection has applied for certain: its consumer's ack floor, else its checkpoint. */
async function appliedUpTo(pool: pg.Pool, js: JetStreamClient, projection: string): Promise<number> {
  return (await ackFloorOf(js, projection)) ?? (await new PgCheckpoint(pool, projection).lastSeq());
}
