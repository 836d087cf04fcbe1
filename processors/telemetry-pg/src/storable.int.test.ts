// Property: whatever a bridge accepts (decoded, then `checkAccepted`), the Postgres projection
// stores, and reads back as it was sent. Real Postgres; bounded in time by TELLY_FUZZ_MS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestDatabase, type TestDatabase } from '@telly/harness';
import { createLogger, createPgPool, runMigrations, withTransaction } from '@telly/runtime';
import { DEFAULT_ACCEPT_POLICY, messageSubject, STORABLE, telemetryPoints } from '@telly/schemas';
import { ANY_STORABLE_TIME, acceptedBody, resolvedPackArbitrary } from '@telly/schemas/testing';
import fc from 'fast-check';
import type pg from 'pg';
import { telemetryMigrations } from './migrations.ts';
import { Partitions } from './partitions.ts';
import { writePoints } from './write.ts';

const BUDGET_MS = Number(process.env.TELLY_FUZZ_MS ?? 3000);
const SUBJECT = messageSubject({
  tenant: '0191e5a0-0000-7000-8000-0000000000e1',
  channel: '0191e5a0-0000-7000-8000-0000000000e2',
  thing: '0191e5a0-0000-7000-8000-0000000000e3',
  subtopic: ['a', 'b'],
});

let db: TestDatabase;
let pool: pg.Pool;
const partitions = new Partitions();

before(async () => {
  db = await startTestDatabase();
  pool = createPgPool(
    { connectionString: db.url, max: 2 },
    createLogger('storable-test', { LOG_LEVEL: 'error' }),
  );
  await runMigrations(pool, telemetryMigrations);
});
after(async () => {
  await pool?.end();
  await db?.stop();
});

test('every accepted pack is stored by Postgres and reads back unchanged', async () => {
  assert.ok(DEFAULT_ACCEPT_POLICY.maxMonths <= ANY_STORABLE_TIME.maxMonths);
  let stored = 0;
  let seq = 0;
  await fc.assert(
    fc.asyncProperty(resolvedPackArbitrary(), async (pack) => {
      const receivedMs = Date.UTC(2026, 11, 1);
      const body = acceptedBody(pack, receivedMs);
      if (body === undefined) return;
      seq++;
      const points = telemetryPoints({
        subject: SUBJECT,
        seq,
        contentType: 'application/senml+json',
        receivedMs,
        body,
      });
      await partitions.ensure(
        pool,
        points.map((p) => p.timeMs),
      );
      const rows = await withTransaction(pool, async (client) => {
        await writePoints(client, points);
        const { rows } = await client.query(
          `SELECT name, unit, time, value, string_value, bool_value, data_value, sum, idx
             FROM telemetry WHERE seq = $1 ORDER BY idx`,
          [seq],
        );
        return rows;
      });
      assert.deepEqual(
        rows.map((r) => [
          r.name,
          r.unit,
          r.time.getTime(),
          r.value,
          r.string_value,
          r.bool_value,
          r.data_value,
          r.sum,
        ]),
        points.map((p) => [
          p.name,
          p.unit ?? null,
          p.timeMs,
          p.value ?? null,
          p.stringValue ?? null,
          p.boolValue ?? null,
          p.dataValue ?? null,
          p.sum ?? null,
        ]),
      );
      stored++;
    }),
    {
      numRuns: 1_000_000,
      interruptAfterTimeLimit: BUDGET_MS,
      markInterruptAsFailure: false,
      // the edges, where a rollup adds values up: what the limits are for
      examples: [
        [Array.from({ length: 6 }, () => ({ n: 'big', t: 1.7e9, v: STORABLE.maxMagnitude }))],
        [Array.from({ length: 6 }, () => ({ n: 'big', t: 1.7e9, v: Number.MAX_VALUE }))],
        [
          [
            { n: 'tiny', t: 1.7e9, v: STORABLE.minMagnitude },
            { n: 'tiny', t: 1.7e9, v: -STORABLE.minMagnitude },
          ],
        ],
        [[{ n: 'end', t: STORABLE.maxTimeMs / 1000, vs: 'tab\there, new\nline, \\N' }]],
      ],
    },
  );
  assert.ok(stored > 10, `only ${stored} packs were accepted: the arbitrary should give more`);
});
