import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Point } from '@influxdata/influxdb-client';
import { type TelemetryPoint, telemetryPoints } from '@telly/schemas';
import { INFLUX_MEASUREMENT, telemetryLine, toInfluxPoint } from './mapping.ts';

const TENANT = '0190a6d4-7c1e-7000-8000-000000000001';
const CHANNEL = '0190a6d4-7c1e-7000-8000-000000000002';
const THING = '0190a6d4-7c1e-7000-8000-000000000003';
const TAGS = `channel=${CHANNEL},name=temp,tenant=${TENANT},thing=${THING}`;
const T = 1_700_000_000_123;

function point(over: Partial<TelemetryPoint>): TelemetryPoint {
  return {
    tenantId: TENANT,
    channelId: CHANNEL,
    thingId: THING,
    subtopic: '',
    name: 'temp',
    unit: undefined,
    timeMs: T,
    value: undefined,
    stringValue: undefined,
    boolValue: undefined,
    dataValue: undefined,
    sum: undefined,
    seq: 7,
    index: 0,
    ...over,
  };
}

test('a numeric record: measurement telemetry, ids and name as tags, value as a float field, ms time', () => {
  assert.equal(INFLUX_MEASUREMENT, 'telemetry');
  assert.equal(telemetryLine(point({ value: 21.5 })), `telemetry,${TAGS} value=21.5 ${T}`);
  // an integral number stays a float (no `i` suffix): the field's type never flips between points
  assert.equal(telemetryLine(point({ value: 3 })), `telemetry,${TAGS} value=3 ${T}`);
  assert.equal(telemetryLine(point({ value: -1.25e-7 })), `telemetry,${TAGS} value=-1.25e-7 ${T}`);
});

test('each value kind is its own field; sum beside a value', () => {
  assert.equal(telemetryLine(point({ stringValue: 'open' })), `telemetry,${TAGS} string_value="open" ${T}`);
  assert.equal(telemetryLine(point({ boolValue: true })), `telemetry,${TAGS} bool_value=T ${T}`);
  assert.equal(telemetryLine(point({ boolValue: false })), `telemetry,${TAGS} bool_value=F ${T}`);
  assert.equal(telemetryLine(point({ dataValue: 'AQID_w' })), `telemetry,${TAGS} data_value="AQID_w" ${T}`);
  assert.equal(telemetryLine(point({ sum: 12.5 })), `telemetry,${TAGS} sum=12.5 ${T}`);
  assert.equal(telemetryLine(point({ value: 2, sum: 100 })), `telemetry,${TAGS} sum=100,value=2 ${T}`);
});

test('subtopic and unit are tags only when present', () => {
  assert.equal(
    telemetryLine(point({ subtopic: 'floor-1/room=2', unit: 'Cel', value: 1 })),
    `telemetry,channel=${CHANNEL},name=temp,subtopic=floor-1/room\\=2,tenant=${TENANT},thing=${THING},unit=Cel value=1 ${T}`,
  );
  assert.equal(telemetryLine(point({ subtopic: '', unit: '', value: 1 })), `telemetry,${TAGS} value=1 ${T}`);
});

test('spaces, commas and = in tags and quotes and backslashes in strings are escaped by Point', () => {
  const line = telemetryLine(
    point({ name: 'a b,c=d', unit: 'kg m/s,x=1', stringValue: 'say "hi" \\ bye, a=b\nnext' }),
  );
  assert.equal(
    line,
    `telemetry,channel=${CHANNEL},name=a\\ b\\,c\\=d,tenant=${TENANT},thing=${THING},unit=kg\\ m/s\\,x\\=1 ` +
      `string_value="say \\"hi\\" \\\\ bye, a=b\nnext" ${T}`,
  );
});

test('a trailing backslash cannot end a tag value: it is dropped, and a unit of only backslashes is none', () => {
  assert.equal(
    telemetryLine(point({ unit: 'odd\\\\', value: 1 })),
    `telemetry,${TAGS},unit=odd value=1 ${T}`,
  );
  assert.equal(telemetryLine(point({ unit: '\\', value: 1 })), `telemetry,${TAGS} value=1 ${T}`);
});

test('a point without any field is no line; non-finite numbers are not written', () => {
  assert.equal(telemetryLine(point({})), undefined);
  assert.equal(telemetryLine(point({ value: Number.NaN })), undefined);
  assert.equal(
    telemetryLine(point({ value: Number.POSITIVE_INFINITY, sum: 1 })),
    `telemetry,${TAGS} sum=1 ${T}`,
  );
});

test('the same record at the same ms maps to the same series and time, whatever message it came in', () => {
  const a = telemetryLine(point({ value: 1, seq: 1, index: 0 }));
  const b = telemetryLine(point({ value: 2, seq: 9, index: 4 }));
  assert.equal(a?.split(' ')[0], b?.split(' ')[0]);
  assert.equal(a?.split(' ')[2], b?.split(' ')[2]);
  const p = toInfluxPoint(point({ value: 1, sum: 2 }));
  assert.ok(p instanceof Point);
  assert.deepEqual(p.fields, { value: '1', sum: '2' });
});

test('a stored SenML message through telemetryPoints: one line per record, base fields resolved', () => {
  const body = new TextEncoder().encode(
    JSON.stringify([
      { bn: 'urn:dev:1:', bt: 1_700_000_000, bu: 'Cel', n: 'temp', v: 21.5 },
      { n: 'door', vb: false, t: 0.5 },
      { n: 'energy', u: 'kWh', s: 12 },
    ]),
  );
  const lines = telemetryPoints({
    subject: `msg.${TENANT}.${CHANNEL}.${THING}.lab.bench`,
    seq: 3,
    contentType: 'application/senml+json',
    receivedMs: undefined,
    body,
  }).map(telemetryLine);
  const tags = (name: string, unit?: string) =>
    `channel=${CHANNEL},name=${name},subtopic=lab/bench,tenant=${TENANT},thing=${THING}${unit ? `,unit=${unit}` : ''}`;
  assert.deepEqual(lines, [
    `telemetry,${tags('urn:dev:1:temp', 'Cel')} value=21.5 1700000000000`,
    `telemetry,${tags('urn:dev:1:door', 'Cel')} bool_value=F 1700000000500`,
    `telemetry,${tags('urn:dev:1:energy', 'kWh')} sum=12 1700000000000`,
  ]);
});
