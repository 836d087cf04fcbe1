import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestDatabase, type TestDatabase } from '@telly/harness';
import { createLogger, createPgPool, runMigrations } from '@telly/runtime';
import type { TelemetryPoint } from '@telly/schemas';
import fc from 'fast-check';
import type pg from 'pg';
import { telemetryMigrations } from './migrations.ts';
import { Partitions } from './partitions.ts';
import { AGGREGATES, TelemetryQueries } from './queries.ts';
import { TELEMETRY_TABLES } from './tables.ts';
import { writePoints } from './write.ts';

let db: TestDatabase;
let pool: pg.Pool;
before(async () => {
  db = await startTestDatabase();
  pool = createPgPool({ connectionString: db.url }, createLogger('rollups-test', { LOG_LEVEL: 'error' }));
  await runMigrations(pool, telemetryMigrations);
});
after(async () => {
  await pool?.end();
  await db?.stop();
});

const TENANT = '0191e5a0-0000-7000-8000-000000000001';
const CHANNELS = ['0191e5a0-0000-7000-8000-0000000000c1', '0191e5a0-0000-7000-8000-0000000000c2'];
const THINGS = ['0191e5a0-0000-7000-8000-0000000000a1', '0191e5a0-0000-7000-8000-0000000000a2'];
const T0 = Date.UTC(2026, 10, 20, 22, 0, 0); // spans midnight and a month boundary is not needed here

async function write(batches: TelemetryPoint[][]): Promise<void> {
  const partitions = new Partitions();
  for (const batch of batches) {
    await partitions.ensure(
      pool,
      batch.map((p) => p.timeMs),
    );
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await writePoints(client, batch);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }
}

const close = (a: number | null, b: number | null) =>
  a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

const pointArb = fc.record({
  thing: fc.integer({ min: 0, max: 1 }),
  channel: fc.integer({ min: 0, max: 1 }),
  name: fc.constantFrom('temp', 'hum'),
  // three hours, second resolution, with duplicates of the same instant
  offsetS: fc.integer({ min: 0, max: 3 * 3600 }),
  value: fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -50, max: 50 })),
  text: fc.boolean(),
});

test('aggregates from the rollups equal the same aggregates from raw rows (late and out-of-order points)', async () => {
  const queries = new TelemetryQueries(pool);
  await fc.assert(
    fc.asyncProperty(
      fc.array(pointArb, { minLength: 1, maxLength: 120 }),
      fc.integer({ min: 1, max: 6 }),
      async (raw, batchCount) => {
        await pool.query(`TRUNCATE ${TELEMETRY_TABLES.join(', ')}`);
        // seqs in log order; times unrelated to it (late and out-of-order points)
        const points: TelemetryPoint[] = raw.map((r, i) => ({
          tenantId: TENANT,
          channelId: CHANNELS[r.channel] as string,
          thingId: THINGS[r.thing] as string,
          subtopic: '',
          name: r.name,
          unit: undefined,
          timeMs: T0 + r.offsetS * 1000,
          value: r.text ? undefined : r.value,
          stringValue: r.text ? 'on' : undefined,
          boolValue: undefined,
          dataValue: undefined,
          sum: undefined,
          seq: Math.floor(i / 3) + 1,
          index: i % 3,
        }));
        const size = Math.ceil(points.length / batchCount);
        await write(Array.from({ length: batchCount }, (_, b) => points.slice(b * size, (b + 1) * size)));
        for (const every of [60, 300, 3600, 7200]) {
          for (const aggregate of AGGREGATES) {
            for (const filter of [
              { thingId: THINGS[0] },
              { channelId: CHANNELS[1] },
              { thingId: THINGS[1], name: 'temp' },
            ]) {
              const f = { tenantId: TENANT, ...filter };
              const fromRollup = await queries.aggregate(f, aggregate, every);
              const fromRaw = await queries.aggregate(f, aggregate, every, { source: 'raw' });
              assert.notEqual(fromRollup.source, 'raw');
              assert.equal(
                fromRollup.rows.length,
                fromRaw.rows.length,
                `${aggregate} every ${every}s: bucket count`,
              );
              fromRollup.rows.forEach((row, i) => {
                const expected = fromRaw.rows[i];
                assert.equal(row.time.getTime(), expected?.time.getTime());
                assert.equal(row.name, expected?.name);
                assert.ok(
                  close(row.value, expected?.value ?? null),
                  `${aggregate} every ${every}s: ${row.value} vs ${expected?.value}`,
                );
              });
            }
          }
        }
      },
    ),
    { numRuns: Number(process.env.TELLY_FUZZ_RUNS ?? 12) },
  );
});

/** One reading of `name` at each of `times` (ms), of THINGS[0] on CHANNELS[0], values 1, 2, 3, … */
function readings(times: readonly number[], name = 'temp', seq0 = 1): TelemetryPoint[] {
  return times.map((timeMs, i) => ({
    tenantId: TENANT,
    channelId: CHANNELS[0] as string,
    thingId: THINGS[0] as string,
    subtopic: '',
    name,
    unit: undefined,
    timeMs,
    value: i + 1,
    stringValue: undefined,
    boolValue: undefined,
    dataValue: undefined,
    sum: undefined,
    seq: seq0 + i,
    index: 0,
  }));
}

const HOUR = 3_600_000;
const hourly = (fromMs: number, toMs: number, stepMs = HOUR) =>
  Array.from({ length: Math.ceil((toMs - fromMs) / stepMs) }, (_, i) => fromMs + i * stepMs);

/** Bucket starts (ISO) and values of an aggregate, after checking that raw points give the same. */
async function buckets(
  aggregate: (typeof AGGREGATES)[number],
  every: number,
  options: { timeZone?: string; last?: number; limit?: number; name?: string } = {},
): Promise<{ source: string; rows: [string, string, number | null][] }> {
  const queries = new TelemetryQueries(pool);
  const filter = { tenantId: TENANT, thingId: THINGS[0], name: options.name };
  const auto = await queries.aggregate(filter, aggregate, every, options);
  const raw = await queries.aggregate(filter, aggregate, every, { ...options, source: 'raw' });
  const rows = (r: typeof auto) =>
    r.rows.map((p): [string, string, number | null] => [p.time.toISOString(), p.name, p.value]);
  assert.deepEqual(rows(auto), rows(raw), `from ${auto.source}: the same as from raw points`);
  // the same buckets as series: a column of epoch milliseconds and one of values per name
  const series = await queries.aggregateSeries(filter, aggregate, every, options);
  assert.equal(series.source, auto.source);
  const names = [...new Set(auto.rows.map((p) => p.name))].sort();
  assert.deepEqual(
    series.series,
    names.map((name) => {
      const own = auto.rows.filter((p) => p.name === name);
      return { name, times: own.map((p) => p.time.getTime()), values: own.map((p) => p.value) };
    }),
  );
  return { source: auto.source, rows: rows(auto) };
}

test('weekly buckets are ISO weeks: they start on Monday 00:00 UTC', async () => {
  await pool.query(`TRUNCATE ${TELEMETRY_TABLES.join(', ')}`);
  // Sunday 22 November 2026 23:00 UTC, Monday 23 November 01:00, Thursday 26 November 12:00
  await write([
    readings([Date.UTC(2026, 10, 22, 23), Date.UTC(2026, 10, 23, 1), Date.UTC(2026, 10, 26, 12)]),
  ]);
  const weekly = await buckets('COUNT', 7 * 86_400);
  assert.equal(weekly.source, 'telemetry_rollup_1h');
  assert.deepEqual(weekly.rows, [
    ['2026-11-16T00:00:00.000Z', 'temp', 1],
    ['2026-11-23T00:00:00.000Z', 'temp', 2],
  ]);
  // two weeks: pairs of ISO weeks, still from a Monday
  const fortnightly = await buckets('COUNT', 14 * 86_400);
  for (const [time] of fortnightly.rows) assert.equal(new Date(time).getUTCDay(), 1, `${time} is a Monday`);
});

test('day buckets in a time zone start at local midnight, 23 hours long on the spring DST change', async () => {
  await pool.query(`TRUNCATE ${TELEMETRY_TABLES.join(', ')}`);
  // one reading an hour, 27 March 2026 00:00 UTC to 31 March; Berlin moves to CEST on 29 March
  await write([readings(hourly(Date.UTC(2026, 2, 27), Date.UTC(2026, 2, 31)))]);
  const daily = await buckets('COUNT', 86_400, { timeZone: 'Europe/Berlin' });
  assert.equal(daily.source, 'telemetry_rollup_1h');
  assert.deepEqual(daily.rows, [
    ['2026-03-26T23:00:00.000Z', 'temp', 23], // 27 March local, from 00:00 UTC = 01:00 CET
    ['2026-03-27T23:00:00.000Z', 'temp', 24],
    ['2026-03-28T23:00:00.000Z', 'temp', 23], // 29 March: 23 hours
    ['2026-03-29T22:00:00.000Z', 'temp', 24], // from here on CEST, midnight is 22:00 UTC
    ['2026-03-30T22:00:00.000Z', 'temp', 2],
  ]);
  // weeks in the zone start on a local Monday: 23 March 00:00 CET
  const weekly = await buckets('COUNT', 7 * 86_400, { timeZone: 'Europe/Berlin' });
  assert.deepEqual(
    weekly.rows.map(([time]) => time),
    ['2026-03-22T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
  );
  // without a zone, UTC days
  const utc = await buckets('COUNT', 86_400);
  assert.deepEqual(utc.rows[0], ['2026-03-27T00:00:00.000Z', 'temp', 24]);
});

test('a zone whose offset is not whole hours is read from the minute rollup, or from raw points', async () => {
  await pool.query(`TRUNCATE ${TELEMETRY_TABLES.join(', ')}`);
  // every 15 minutes over two days: some in the half hours around Kolkata's midnight (18:30 UTC)
  const times = hourly(Date.UTC(2026, 10, 20), Date.UTC(2026, 10, 22), 15 * 60_000);
  // and every 10 s around midnight in Kolkata in 1900, on Madras time, UTC+05:21:10: not whole minutes
  const madras = hourly(Date.UTC(1900, 0, 1, 18), Date.UTC(1900, 0, 1, 19), 10_000);
  await write([readings(times), readings(madras, 'old', 10_000)]);
  const kolkata = await buckets('SUM', 86_400, { timeZone: 'Asia/Kolkata', name: 'temp' });
  assert.equal(kolkata.source, 'telemetry_rollup_1m');
  assert.ok(
    kolkata.rows.slice(1).every(([time]) => time.endsWith('T18:30:00.000Z')),
    String(kolkata.rows),
  );
  const old = await buckets('COUNT', 86_400, { timeZone: 'Asia/Kolkata', name: 'old' });
  assert.equal(old.source, 'raw');
  assert.deepEqual(old.rows, [
    ['1899-12-31T18:38:50.000Z', 'old', 233], // 1 January 1900 00:00 local time, to 18:38:40 UTC
    ['1900-01-01T18:38:50.000Z', 'old', 127],
  ]);
});

test('with every, last gives the newest buckets and limit the first ones, each with all its names', async () => {
  await pool.query(`TRUNCATE ${TELEMETRY_TABLES.join(', ')}`);
  const start = Date.UTC(2026, 10, 20, 0);
  await write([
    readings(hourly(start, start + 5 * HOUR)),
    readings(hourly(start, start + 4 * HOUR), 'hum', 100),
  ]);
  const last = await buckets('MAX', 3_600, { last: 2 });
  assert.deepEqual(last.rows, [
    ['2026-11-20T03:00:00.000Z', 'hum', 4],
    ['2026-11-20T03:00:00.000Z', 'temp', 4],
    ['2026-11-20T04:00:00.000Z', 'temp', 5],
  ]);
  const first = await buckets('MAX', 3_600, { limit: 1, name: 'temp' });
  assert.deepEqual(first.rows, [['2026-11-20T00:00:00.000Z', 'temp', 1]]);
  const lastInZone = await buckets('COUNT', 86_400, { last: 1, timeZone: 'America/New_York' });
  assert.deepEqual(lastInZone.rows, [
    ['2026-11-19T05:00:00.000Z', 'hum', 4],
    ['2026-11-19T05:00:00.000Z', 'temp', 5],
  ]);
});

test('in any zone, day and week buckets from the rollups equal the same from raw points', async () => {
  const ZONES = ['Europe/Berlin', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'UTC'];
  // ten days around the northern autumn DST change (25 October 2026), minute resolution
  const start = Date.UTC(2026, 9, 20);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 10 * 24 * 60 }), { minLength: 1, maxLength: 80 }),
      fc.constantFrom(...ZONES),
      fc.constantFrom(86_400, 2 * 86_400, 7 * 86_400),
      fc.constantFrom(...AGGREGATES),
      async (minutes, timeZone, every, aggregate) => {
        await pool.query(`TRUNCATE ${TELEMETRY_TABLES.join(', ')}`);
        await write([readings(minutes.map((m) => start + m * 60_000))]);
        await buckets(aggregate, every, { timeZone });
      },
    ),
    { numRuns: Number(process.env.TELLY_FUZZ_RUNS ?? 12) * 2 },
  );
});
