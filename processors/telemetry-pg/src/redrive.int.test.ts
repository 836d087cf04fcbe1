// A message `telly dlq redrive` republished for another processor: the live projection, verify
// and replay all pass it over, so it is never stored twice. Real NATS and Postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { ackFloorOf, REDRIVE_HEADERS } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import { messageSubject, STREAMS } from '@telly/schemas';
import { telemetryMigrations } from './migrations.ts';
import { TELEMETRY_PG, telemetryProjection } from './projection.ts';
import { replayTelemetry } from './replay.ts';
import { verifyTelemetry } from './verify.ts';

const TENANT = '0191e5a0-0000-7000-8000-0000000000f1';
const CHANNEL = '0191e5a0-0000-7000-8000-0000000000f2';
const THING = '0191e5a0-0000-7000-8000-0000000000f3';
const T0 = Date.UTC(2026, 10, 20, 12, 0, 0) / 1000;

let stack: RuntimeTestStack;
let js: JetStreamClient;

before(async () => {
  stack = await startRuntimeTestStack({ name: 'redrive-test', migrations: [telemetryMigrations] });
  js = jetstream(stack.nc);
  await stack.run(telemetryProjection(stack.pool));
});
after(() => stack?.stop());

async function publish(i: number, redriveFor?: string): Promise<void> {
  const h = natsHeaders();
  h.set('Content-Type', 'application/senml+json');
  h.set('Telly-Protocol', 'http');
  h.set('Telly-Received', String((T0 + i) * 1000));
  if (redriveFor) {
    h.set(REDRIVE_HEADERS.for, redriveFor);
    h.set(REDRIVE_HEADERS.of, `MESSAGES:${i + 1}`);
  }
  const body = JSON.stringify([{ n: 'temperature', u: 'Cel', v: 20 + i, t: T0 + i }]);
  await js.publish(messageSubject({ tenant: TENANT, channel: CHANNEL, thing: THING }), body, {
    headers: h,
    msgID: redriveFor ? `redrive:${redriveFor}:${i}` : `${THING}:${i}`,
  });
}

const rows = async () =>
  Number(
    (
      await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM telemetry WHERE thing_id = $1', [
        THING,
      ])
    ).rows[0]?.n,
  );

test('a copy redriven for another processor is stored by no live projection, verify or replay', async () => {
  for (let i = 0; i < 3; i++) await publish(i);
  await publish(1, 'telemetry-influx'); // the influx sink gave up on message 2; it was redriven
  await waitFor(
    async () => {
      const state = (await stack.jsm.streams.info(STREAMS.MESSAGES.name)).state;
      return (await ackFloorOf(js, TELEMETRY_PG)) === state.last_seq;
    },
    { what: 'the live projection acked everything' },
  );
  assert.equal(await rows(), 3, 'the live projection skipped the copy');

  const verified = await verifyTelemetry({ js, pool: stack.pool });
  assert.deepEqual(verified.differences, []);
  assert.equal(verified.messages, 3, 'the copy is not a message of the log to compare');

  const replayed = await replayTelemetry({ js, pool: stack.pool });
  assert.equal(replayed.messages, 3);
  assert.equal(await rows(), 3, 'the rebuild stored the copy neither');
  assert.deepEqual((await verifyTelemetry({ js, pool: stack.pool })).differences, []);
});
