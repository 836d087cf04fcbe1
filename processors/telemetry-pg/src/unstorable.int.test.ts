// Entries no projection can store, published straight into MESSAGES (as a client bypassing the
// bridge could): the live projection dead-letters each alone and stores the rest of its batch,
// verify reports them apart from differences, and a replay finishes. Real NATS and Postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { ackFloorOf, DeadLetterQueue, DLQ_HEADERS, type RunningProcessor } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import { dlqSubject, messageSubject, STREAMS } from '@telly/schemas';
import { telemetryMigrations } from './migrations.ts';
import { TELEMETRY_PG, telemetryProjection } from './projection.ts';
import { replayTelemetry } from './replay.ts';
import { verifyTelemetry } from './verify.ts';

const TENANT = '0191e5a0-0000-7000-8000-0000000000f1';
const CHANNEL = '0191e5a0-0000-7000-8000-0000000000f2';
const THING = '0191e5a0-0000-7000-8000-0000000000f3';
/** Records of this name are refused by a test trigger: a refusal only Postgres knows of. */
const REFUSED_BY_POSTGRES = 'refused-by-postgres';
const T = Date.UTC(2026, 10, 20) / 1000;

let stack: RuntimeTestStack;
let js: JetStreamClient;
let live: RunningProcessor;

before(async () => {
  stack = await startRuntimeTestStack({ name: 'unstorable-test', migrations: [telemetryMigrations] });
  js = jetstream(stack.nc);
  // BEFORE INSERT on the raw table, and on the fresh raw table a replay creates (it is built
  // from the migrations, which know nothing of this trigger)
  await stack.pool.query(`
    CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.name = '${REFUSED_BY_POSTGRES}' THEN
        RAISE EXCEPTION 'a test trigger refuses this row' USING ERRCODE = '22023';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse BEFORE INSERT ON telemetry FOR EACH ROW EXECUTE FUNCTION refuse_row();
    CREATE FUNCTION refuse_in_replay() RETURNS event_trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = 'public.telemetry_next') THEN
        CREATE TRIGGER refuse BEFORE INSERT ON telemetry_next FOR EACH ROW EXECUTE FUNCTION refuse_row();
      END IF;
    END $$;
    CREATE EVENT TRIGGER refuse_in_replay ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
      EXECUTE FUNCTION refuse_in_replay();`);
});
after(async () => {
  await stack?.pool.query('DROP EVENT TRIGGER IF EXISTS refuse_in_replay').catch(() => {});
  await stack?.stop();
});

/** One entry as a bridge would store it, but with whatever body: no bridge checked it. */
async function publish(records: unknown[]): Promise<number> {
  const h = natsHeaders();
  h.set('Content-Type', 'application/senml+json');
  h.set('Telly-Received', String(T * 1000));
  const body = JSON.stringify(records);
  return (
    await js.publish(messageSubject({ tenant: TENANT, channel: CHANNEL, thing: THING }), body, { headers: h })
  ).seq;
}

const reading = (i: number) => [{ n: 'temperature', u: 'Cel', t: T + i, v: 20 + i }];

async function caughtUp(): Promise<void> {
  await waitFor(
    async () => {
      const { state } = await (await js.streams.get(STREAMS.MESSAGES.name)).info(false);
      return (await ackFloorOf(js, TELEMETRY_PG)) === state.last_seq;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: 'projection caught up' },
  );
}

/** The DLQ entries of the projection: original sequence → reason, and their deliveries. */
async function deadLettered(): Promise<Map<number, { reason: string; deliveries: string }>> {
  const out = new Map<number, { reason: string; deliveries: string }>();
  const stream = await js.streams.get(STREAMS.DLQ.name);
  const { state } = await stream.info(false);
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await stream.getMessage({ seq });
    if (m?.subject !== dlqSubject(TELEMETRY_PG)) continue;
    out.set(Number(m.header.get(DLQ_HEADERS.sequence)), {
      reason: m.header.get(DLQ_HEADERS.reason),
      deliveries: m.header.get(DLQ_HEADERS.deliveries),
    });
  }
  return out;
}

async function storedSeqs(): Promise<number[]> {
  const { rows } = await stack.pool.query<{ seq: string }>('SELECT DISTINCT seq FROM telemetry ORDER BY seq');
  return rows.map((r) => Number(r.seq));
}

test('unstorable entries are dead-lettered alone, reported by verify and replay, which finish', async () => {
  // in the log before the projection starts: one batch holding good and unstorable entries
  const good = [await publish(reading(1))];
  const unstorable = [
    await publish([{ n: 'ms', t: 1796110000000, v: 1 }]),
    await publish([{ n: 'nul', t: T, vs: 'a\u0000b' }]),
  ];
  good.push(await publish(reading(2)));
  unstorable.push(await publish([{ n: 'year', t: 253402300800, v: 1 }]));
  unstorable.push(await publish([...reading(3), { n: 'huge', t: T, v: 1e300 }]));
  good.push(await publish(reading(4)));
  live = await stack.run(telemetryProjection(stack.pool));
  await caughtUp();
  assert.deepEqual(await storedSeqs(), good, 'the rest of the batch is stored');
  let dlq = await deadLettered();
  assert.deepEqual([...dlq.keys()], unstorable);
  assert.match(
    dlq.get(unstorable[0] as number)?.reason ?? '',
    /cannot be stored: record 0: t=1796110000000 is year 58886.*milliseconds\?/,
  );
  assert.match(dlq.get(unstorable[1] as number)?.reason ?? '', /NUL/);
  assert.match(
    dlq.get(unstorable[3] as number)?.reason ?? '',
    /^seq \d+ cannot be stored: record 1: "v" 1e\+300/,
  );
  for (const seq of unstorable) assert.equal(dlq.get(seq)?.deliveries, '1', 'at once, not after retries');

  // a value only Postgres refuses: the batch is taken apart, that entry alone goes to the DLQ
  const refused = await publish([{ n: REFUSED_BY_POSTGRES, t: T, v: 1 }]);
  good.push(await publish(reading(5)));
  await caughtUp();
  dlq = await deadLettered();
  assert.match(dlq.get(refused)?.reason ?? '', /Postgres refused.*a test trigger refuses this row/);
  assert.deepEqual(await storedSeqs(), good);

  // verify: the unstorable entries apart, not differences (the one Postgres refused is one)
  const verified = await verifyTelemetry({ pool: stack.pool, js });
  assert.equal(verified.unstorable, unstorable.length);
  assert.deepEqual(
    verified.unstorableEntries.map((e) => e.seq),
    unstorable,
  );
  assert.match(verified.unstorableEntries[0]?.reason ?? '', /year 58886/);
  assert.deepEqual(
    verified.differences.map((d) => [d.what, d.log.count - d.projection.count]),
    [['points', 1]],
    'only the point Postgres refused is missing',
  );

  // told where the DLQ is, verify leaves out what the projection gave up on: no difference left
  const withDlq = await verifyTelemetry({ pool: stack.pool, js, deadLetters: new DeadLetterQueue(stack.nc) });
  assert.deepEqual(withDlq.differences, []);
  assert.equal(withDlq.unstorable, unstorable.length);
  assert.deepEqual(
    withDlq.deadLetteredEntries.map((e) => e.seq),
    [refused],
  );
  assert.match(withDlq.deadLetteredEntries[0]?.reason ?? '', /Postgres refused/);

  // replay: finishes, reports the same entries, and the one Postgres refuses in the fresh tables too
  const report = await replayTelemetry({ pool: stack.pool, js });
  assert.equal(report.messages, good.length + unstorable.length + 1);
  assert.deepEqual(
    report.unstorableEntries.map((e) => e.seq),
    [...unstorable, refused],
  );
  assert.equal(report.unstorable, unstorable.length + 1);
  assert.match(report.unstorableEntries.at(-1)?.reason ?? '', /Postgres refused it: a test trigger refuses/);
  assert.equal(report.points, good.length);
  assert.equal(report.skipped, 0);
  assert.deepEqual(await storedSeqs(), good);
  const after = await verifyTelemetry({ pool: stack.pool, js, deadLetters: new DeadLetterQueue(stack.nc) });
  assert.deepEqual(after.differences, []);
  assert.equal(after.unstorable + after.deadLettered, unstorable.length + 1);
  await live.stop();
});
