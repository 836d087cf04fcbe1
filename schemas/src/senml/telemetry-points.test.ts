import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageSubject } from '../subjects/index.ts';
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
