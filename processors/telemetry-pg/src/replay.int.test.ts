// Rebuilding the projection from the log, verifying it against the log, and keeping it exact
// through a Postgres outage under load. Real NATS and Postgres; the live projection runs as
// `telly up` runs it, and messages are stored as the bridges store them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { type PostgresServer, waitFor } from '@telly/harness';
import { ackFloorOf, type RunningProcessor, runMigrations } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import { messageSubject, STREAMS } from '@telly/schemas';
import type pg from 'pg';
import { telemetryMigrations } from './migrations.ts';
import { TELEMETRY_PG, telemetryProjection } from './projection.ts';
import { TelemetryQueries } from './queries.ts';
import { replayTelemetry } from './replay.ts';
import { TELEMETRY_TABLES } from './tables.ts';
import { verifyTelemetry } from './verify.ts';

const TENANT = '0191e5a0-0000-7000-8000-000000000001';
const CHANNELS = ['0191e5a0-0000-7000-8000-0000000000c1', '0191e5a0-0000-7000-8000-0000000000c2'];
const THINGS = Array.from({ length: 6 }, (_, i) => `0191e5a0-0000-7000-8000-0000000000a${i}`);
/** Two days before a month boundary: points land in two monthly partitions. */
const T0 = Date.UTC(2026, 10, 29, 0, 0, 0) / 1000;
/** How long Postgres stays down under load. */
const OUTAGE_MS = Number(process.env.TELLY_OUTAGE_MS ?? 30_000);

let stack: RuntimeTestStack;
let postgres: PostgresServer;
let js: JetStreamClient;
let pool: pg.Pool;
let live: RunningProcessor | undefined;
let published = 0;

before(async () => {
  // a durable server of its own: the outage test kills it and counts on what it committed
  stack = await startRuntimeTestStack({ name: 'replay-test', postgres: { durable: true }, pool: { max: 8 } });
  postgres = stack.db.server as PostgresServer;
  js = jetstream(stack.nc);
  pool = stack.pool;
  await runMigrations(pool, telemetryMigrations);
  await startLive();
});
after(() => stack?.stop());

async function startLive(): Promise<void> {
  live = await stack.run(telemetryProjection(pool));
}

/** One message as a bridge stores it: a resolved SenML pack of two or three records. */
async function publish(i: number, extra: { msgId?: string } = {}): Promise<void> {
  const thing = THINGS[i % THINGS.length] as string;
  const channel = CHANNELS[i % CHANNELS.length] as string;
  const t = T0 + i * 97; // ~4.5 days across 5,000 messages: several days, two months
  const records: Record<string, unknown>[] = [
    { n: 'temperature', u: 'Cel', v: 15 + (i % 17) * 0.5, t },
    { n: 'humidity', u: '%RH', v: 40 + (i % 23), t },
  ];
  if (i % 5 === 0) records.push({ n: 'led', vb: i % 2 === 0, t });
  // a late point, with the characters COPY must escape
  if (i % 7 === 0) records.push({ n: 'status', vs: `ok-${i}\t\\N \\ "x"\r\n`, t: t - 3_600 });
  const h = natsHeaders();
  h.set('Content-Type', 'application/senml+json');
  h.set('Telly-Protocol', 'mqtt');
  h.set('Telly-Received', String(t * 1000));
  await js.publish(messageSubject({ tenant: TENANT, channel, thing }), JSON.stringify(records), {
    headers: h,
    msgID: extra.msgId ?? `${thing}:${i}`,
  });
  published++;
}

/** Until the live projection has acked everything in the log. */
async function caughtUp(timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      const { state } = await (await js.streams.get(STREAMS.MESSAGES.name)).info(false);
      return (await ackFloorOf(js, TELEMETRY_PG)) === state.last_seq;
    },
    { timeoutMs, intervalMs: 100, what: 'projection caught up' },
  );
}

/** Every row of every table, in a stable order: what "identical" means for a rebuild. */
async function dump(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TELEMETRY_TABLES) {
    const { rows } = await pool.query(`SELECT * FROM ${table} ORDER BY 1, 2, 3, 4, 5`);
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

/** The answers the API gives from these tables: raw, last N, aggregates from rollups, latest. */
async function answers(): Promise<unknown> {
  const q = new TelemetryQueries(pool);
  const thingId = THINGS[1] as string;
  const from = new Date(T0 * 1000);
  const to = new Date((T0 + 5 * 86_400) * 1000);
  return {
    raw: await q.points({ tenantId: TENANT, thingId, name: 'temperature', from, to }, {}),
    last: await q.points({ tenantId: TENANT, thingId }, { last: 10 }),
    hourly: await q.aggregate({ tenantId: TENANT, thingId, name: 'humidity', from, to }, 'AVG', 3_600),
    daily: await q.aggregate({ tenantId: TENANT, channelId: CHANNELS[0], from, to }, 'LAST', 86_400),
    latest: await q.latest(TENANT, thingId),
  };
}

describe('replay and verify', () => {
  test('verify agrees with a fresh projection and reports tampering per thing and day', async () => {
    for (let i = 0; i < 2_000; i++) await publish(i);
    await caughtUp();
    const clean = await verifyTelemetry({ pool, js });
    assert.deepEqual(clean.differences, []);
    assert.equal(clean.messages, 2_000);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
    assert.equal(clean.points, Number(rows[0]?.n));

    // one row gone, one value changed: both found, at their thing and day
    const { rows: victims } = await pool.query<{ thing_id: string; time: Date; seq: string; idx: number }>(
      `SELECT thing_id, time, seq, idx FROM telemetry WHERE value IS NOT NULL ORDER BY seq, idx LIMIT 2 OFFSET 500`,
    );
    const [gone, changed] = victims as [(typeof victims)[0], (typeof victims)[0]];
    await pool.query('DELETE FROM telemetry WHERE seq = $1 AND idx = $2', [gone.seq, gone.idx]);
    await pool.query('UPDATE telemetry SET value = value + 0.001 WHERE seq = $1 AND idx = $2', [
      changed.seq,
      changed.idx,
    ]);
    const tampered = await verifyTelemetry({ pool, js });
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const points = tampered.differences.filter((d) => d.what === 'points');
    assert.ok(
      points.some(
        (d) =>
          d.thingId === gone.thing_id && d.day === day(gone.time) && d.log.count === d.projection.count + 1,
      ),
    );
    assert.ok(
      points.some(
        (d) =>
          d.thingId === changed.thing_id &&
          d.day === day(changed.time) &&
          d.log.checksum !== d.projection.checksum,
      ),
    );
    assert.ok(
      tampered.differences.some((d) => d.what === 'rollup_1h' && d.thingId === gone.thing_id),
      'the rollups no longer match the raw rows either',
    );
  });

  test('drop the tables, replay, verify: no differences, and the same answers as before', async () => {
    // the reference: a projection that never had a problem (the tampering above is rebuilt away)
    await replayTelemetry({ pool, js });
    await caughtUp();
    const before = { dump: await dump(), answers: await answers() };
    assert.deepEqual((await verifyTelemetry({ pool, js })).differences, []);

    await live?.stop();
    live = undefined;
    await pool.query(`DROP TABLE ${TELEMETRY_TABLES.join(', ')} CASCADE`);
    const progress: string[] = [];
    const report = await replayTelemetry({ pool, js, batch: 300, onProgress: (p) => progress.push(p.phase) });
    await startLive();
    assert.equal(report.messages, published);
    assert.equal(report.keptRows, 0);
    assert.ok(progress.includes('bulk') && progress.at(-1) === 'done', `phases ${[...new Set(progress)]}`);
    assert.deepEqual(await dump(), before.dump, 'every row of every table as before');
    const { rows: escaped } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM telemetry
        WHERE position(chr(9) || '\\N \\ "x"' || chr(13) || chr(10) IN string_value) > 0`,
    );
    assert.ok(Number(escaped[0]?.n) > 0, 'strings with tabs, newlines and backslashes survive the bulk COPY');
    assert.deepEqual(await answers(), before.answers, 'the queries answer as before');
    assert.deepEqual((await verifyTelemetry({ pool, js })).differences, []);

    // from the middle of the log: earlier rows are kept, the rest rebuilt, the same result
    const fromSeq = Math.floor(published / 2);
    const partial = await replayTelemetry({ pool, js, fromSeq });
    assert.ok(partial.keptRows > 0);
    assert.equal(partial.messages, published - fromSeq + 1);
    assert.deepEqual(await dump(), before.dump);
  });

  test('a replay from a sequence the projection has not reached yet loses nothing', async () => {
    await caughtUp();
    await live?.stop();
    live = undefined;
    const behindFrom = published;
    for (let i = behindFrom; i < behindFrom + 300; i++) await publish(i);
    // asked to start in the middle of what the projection has not applied: it starts at its ack floor
    const report = await replayTelemetry({ pool, js, fromSeq: published - 100 });
    assert.ok(report.fromSeq <= behindFrom + 1, `replayed from ${report.fromSeq}`);
    await startLive();
    await caughtUp();
    const verified = await verifyTelemetry({ pool, js });
    assert.deepEqual(verified.differences, []);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
    assert.equal(Number(rows[0]?.n), verified.points);
  });

  test('a replay while the projection runs and ingest flows loses and doubles nothing', async () => {
    const start = published;
    const ingest = (async () => {
      for (let i = start; i < start + 3_000; i++) {
        await publish(i);
        if (i % 10 === 0) await sleep(5);
      }
    })();
    await sleep(200);
    const report = await replayTelemetry({ pool, js, batch: 200, maxSwapGap: 50 });
    await ingest;
    await caughtUp();
    assert.ok(report.toSeq > start, 'the replay took in messages stored while it ran');
    const verified = await verifyTelemetry({ pool, js });
    assert.deepEqual(verified.differences, []);
    assert.equal(verified.messages, published);
    const { rows } = await pool.query<{ n: string; distinct: string }>(
      'SELECT count(*) AS n, count(DISTINCT (seq, idx)) AS distinct FROM telemetry',
    );
    assert.equal(rows[0]?.n, rows[0]?.distinct, 'no point twice');
    assert.equal(Number(rows[0]?.n), verified.points, 'no point missing');
  });

  test(`Postgres down for ${OUTAGE_MS / 1000} s under load: nothing missing, nothing doubled, nothing dead-lettered`, async () => {
    const start = published;
    let stop = false;
    const ingest = (async () => {
      for (let i = start; !stop; i++) {
        await publish(i);
        await sleep(2);
      }
    })();
    await sleep(1_000);
    await postgres.process.kill('SIGKILL');
    await sleep(OUTAGE_MS);
    await postgres.restart();
    await sleep(1_000);
    stop = true;
    await ingest;
    await caughtUp(120_000);
    const dlq = await (await js.streams.get(STREAMS.DLQ.name)).info(false);
    assert.equal(dlq.state.messages, 0, 'an outage is not the messages’ fault');
    const verified = await verifyTelemetry({ pool, js });
    assert.deepEqual(verified.differences, []);
    assert.ok(published - start > 1_000, `load during the outage (${published - start} messages)`);
    const { rows } = await pool.query<{ n: string; distinct: string }>(
      'SELECT count(*) AS n, count(DISTINCT (seq, idx)) AS distinct FROM telemetry',
    );
    assert.equal(rows[0]?.n, rows[0]?.distinct);
    assert.equal(Number(rows[0]?.n), verified.points);
  });
});
