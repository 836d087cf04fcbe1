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
