import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageSubject } from '../subjects/build.ts';
import { isUnstorableError } from './accept.ts';
import { decodeMessage } from './decode.ts';
import { encodeResolvedJson } from './encode.ts';
import { telemetryPoints } from './telemetry-points.ts';

const T = '0191e5a0-0000-7000-8000-00000000000';
const subject = messageSubject({
  tenant: `${T}1`,
  channel: `${T}2`,
  thing: `${T}3`,
  subtopic: ['soil', 'north'],
});

test('a stored SenML pack becomes points with their origin, time in ms and identity', () => {
  const body = new TextEncoder().encode(
    JSON.stringify([
      { n: 'esp:temp', u: 'Cel', t: 1700000000.5, v: 21.5 },
      { n: 'esp:ok', t: 1700000000.5, vb: true },
    ]),
  );
  const points = telemetryPoints({
    subject,
    seq: 42,
    contentType: 'application/senml+json',
    receivedMs: 1,
    body,
  });
  assert.deepEqual(
    points.map((p) => [
      p.tenantId.at(-1),
      p.channelId.at(-1),
      p.thingId.at(-1),
      p.subtopic,
      p.name,
      p.timeMs,
      p.value,
      p.boolValue,
      p.seq,
      p.index,
    ]),
    [
      ['1', '2', '3', 'soil/north', 'esp:temp', 1700000000500, 21.5, undefined, 42, 0],
      ['1', '2', '3', 'soil/north', 'esp:ok', 1700000000500, undefined, true, 42, 1],
    ],
  );
});

test('plain JSON resolves against Telly-Received, so a replay gives the same points', () => {
  const body = new TextEncoder().encode('{"temperature": 20, "led": false}');
  const decode = () =>
    telemetryPoints({ subject, seq: 7, contentType: 'application/json', receivedMs: 1700000000000, body });
  assert.deepEqual(decode(), decode());
  assert.deepEqual(
    decode().map((p) => [p.name, p.timeMs]),
    [
      ['temperature', 1700000000000],
      ['led', 1700000000000],
    ],
  );
});

test('a relative time is resolved exactly once: by the bridge, not again when the entry is read', () => {
  const receivedMs = Date.UTC(2026, 11, 1);
  // 1975-01-01 sent as a negative relative time: resolved, it is below 2**28 but absolute
  const t1975 = Date.UTC(1975, 0, 1) / 1000;
  const raw = [{ n: 'old', t: t1975 - receivedMs / 1000, v: 1 }];
  const { records } = decodeMessage('application/senml+json', new TextEncoder().encode(JSON.stringify(raw)), {
    now: receivedMs / 1000,
  });
  assert.equal(records[0]?.t, t1975);
  // what the bridge stores, read back as every projection reads it
  const points = telemetryPoints({
    subject,
    seq: 1,
    contentType: 'application/senml+json',
    receivedMs,
    body: encodeResolvedJson(records),
  });
  assert.equal(new Date(points[0]?.timeMs ?? Number.NaN).toISOString(), '1975-01-01T00:00:00.000Z');
});

test('an entry no projection can store is a SenmlError with an unstorable code', () => {
  const read = (body: string, contentType = 'application/senml+json') =>
    telemetryPoints({
      subject,
      seq: 1,
      contentType,
      receivedMs: 1_700_000_000_000,
      body: new TextEncoder().encode(body),
    });
  for (const [body, type] of [
    ['[{"n":"ms","t":1796110000000,"v":1}]', 'application/senml+json'],
    ['{"t":1796110000000,"x":1}', 'application/json'],
    ['[{"n":"a","t":1700000000,"vs":"\\u0000"}]', 'application/senml+json'],
  ] as const) {
    assert.throws(
      () => read(body, type),
      (err) => isUnstorableError(err),
      body,
    );
  }
});
