import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Point } from '@influxdata/influxdb-client';
import { type TelemetryPoint, telemetryPoints } from '@telly/schemas';
import { acceptedBody, resolvedPackArbitrary } from '@telly/schemas/testing';
import fc from 'fast-check';
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

/**
 * Reads one line of line protocol as InfluxDB's parser does: measurement, tags and fields split
 * on unescaped commas, spaces and `=`, string fields quoted (`\"` and `\\` escaped), then the
 * timestamp. Throws on anything InfluxDB would refuse.
 */
function parseLine(line: string): {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string>;
  time: number;
} {
  let i = 0;
  const until = (stops: string): string => {
    let out = '';
    for (; i < line.length && !stops.includes(line[i] as string); i++) {
      if (line[i] === '\n') throw new Error(`a line break outside a string field at ${i}`);
      if (line[i] === '\\' && i + 1 < line.length && ', ="\\'.includes(line[i + 1] as string)) i++;
      out += line[i];
    }
    return out;
  };
  const measurement = until(', ');
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    i++;
    const key = until('=');
    i++;
    tags[key] = until(', ');
    assert.ok(key !== '' && tags[key] !== '', `empty tag in ${line}`);
  }
  assert.equal(line[i++], ' ');
  const fields: Record<string, string> = {};
  do {
    if (line[i] === ',') i++;
    const key = until('=');
    i++;
    if (line[i] === '"') {
      let value = '';
      for (i++; line[i] !== '"'; i++) {
        if (i >= line.length) throw new Error('an unterminated string field');
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        value += line[i];
      }
      i++;
      fields[key] = value;
    } else {
      fields[key] = until(', ');
    }
  } while (line[i] === ',');
  assert.equal(line[i++], ' ');
  const time = line.slice(i);
  assert.match(time, /^\d{1,19}$/);
  // ms precision: InfluxDB keeps nanoseconds in a signed 64-bit integer
  assert.ok(BigInt(time) * 1_000_000n <= 2n ** 63n - 1n, `timestamp ${time} beyond InfluxDB's range`);
  return { measurement, tags, fields, time: Number(time) };
}

test('property: every point of an accepted pack maps to one line InfluxDB reads back as sent', () => {
  const receivedMs = Date.UTC(2026, 11, 1);
  let mapped = 0;
  fc.assert(
    fc.property(
      resolvedPackArbitrary(),
      fc.constantFrom('', 'floor-1/room=2', 'a~b/c@d:e_'),
      (pack, subtopic) => {
        const body = acceptedBody(pack, receivedMs);
        if (body === undefined) return;
        const subject = `msg.${TENANT}.${CHANNEL}.${THING}${subtopic ? `.${subtopic.split('/').join('.')}` : ''}`;
        for (const p of telemetryPoints({
          subject,
          seq: 1,
          contentType: 'application/senml+json',
          receivedMs,
          body,
        })) {
          const line = telemetryLine(p);
          assert.ok(line !== undefined, 'a value or a sum gives a field');
          const read = parseLine(line);
          assert.equal(read.measurement, INFLUX_MEASUREMENT);
          assert.equal(read.tags.name, p.name);
          // as documented: a tag value loses trailing backslashes, and an empty one is no tag
          const tag = (value: string | undefined) => value?.replace(/\\+$/, '') || undefined;
          assert.equal(read.tags.unit, tag(p.unit));
          assert.equal(read.tags.subtopic, tag(p.subtopic));
          assert.deepEqual([read.tags.tenant, read.tags.channel, read.tags.thing], [TENANT, CHANNEL, THING]);
          assert.equal(read.time, p.timeMs);
          if (p.value !== undefined) assert.equal(Number(read.fields.value), p.value);
          if (p.sum !== undefined) assert.equal(Number(read.fields.sum), p.sum);
          if (p.stringValue !== undefined) assert.equal(read.fields.string_value, p.stringValue);
          if (p.dataValue !== undefined) assert.equal(read.fields.data_value, p.dataValue);
          if (p.boolValue !== undefined) assert.equal(read.fields.bool_value, p.boolValue ? 'T' : 'F');
          mapped++;
        }
      },
    ),
    { numRuns: 1_000_000, interruptAfterTimeLimit: Number(process.env.TELLY_FUZZ_MS ?? 3000) },
  );
  assert.ok(mapped > 100, `only ${mapped} points were mapped`);
});
