import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeMessage } from './decode.ts';
import { isSenmlError, type SenmlErrorCode } from './errors.ts';
import { fromPlainJson } from './from-json.ts';

const NOW = 1.7e9;
const convert = (value: unknown, maxRecords?: number) =>
  fromPlainJson(value, maxRecords === undefined ? { now: NOW } : { now: NOW, maxRecords });

function rejects(value: unknown, code: SenmlErrorCode, field: string | undefined, message?: RegExp): void {
  assert.throws(
    () => convert(value),
    (err) => {
      assert.ok(isSenmlError(err), String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(err.field, field);
      assert.equal(err.index, undefined);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

describe('plain JSON values', () => {
  test('one record per key: number → v, string → vs, boolean → vb, timed now', () => {
    assert.deepEqual(convert({ temperature: 21.5, humidity: 40, state: 'ok', door: false }), [
      { n: 'temperature', t: NOW, v: 21.5 },
      { n: 'humidity', t: NOW, v: 40 },
      { n: 'state', t: NOW, vs: 'ok' },
      { n: 'door', t: NOW, vb: false },
    ]);
  });

  test('nested objects flatten with "."', () => {
    assert.deepEqual(convert({ env: { temp: 21, air: { co2: 400 } }, up: true }), [
      { n: 'env.temp', t: NOW, v: 21 },
      { n: 'env.air.co2', t: NOW, v: 400 },
      { n: 'up', t: NOW, vb: true },
    ]);
  });

  test('"bn" prefixes every name as-is', () => {
    assert.deepEqual(convert({ bn: 'dev-1:', temp: 21, env: { rh: 40 } }), [
      { n: 'dev-1:temp', t: NOW, v: 21 },
      { n: 'dev-1:env.rh', t: NOW, v: 40 },
    ]);
  });

  test('"t" and "time" in seconds follow SenML: absolute from 2**28, else relative to now', () => {
    assert.deepEqual(convert({ t: 1.6e9, x: 1 }), [{ n: 'x', t: 1.6e9, v: 1 }]);
    assert.deepEqual(convert({ time: -30, x: 1 }), [{ n: 'x', t: NOW - 30, v: 1 }]);
  });

  test('"time" as an ISO-8601 date-time with a zone', () => {
    assert.deepEqual(convert({ time: '2024-05-01T12:00:00.5Z', x: 1 }), [{ n: 'x', t: 1714564800.5, v: 1 }]);
    assert.deepEqual(convert({ t: '2024-05-01T14:00+02:00', x: 1 }), [{ n: 'x', t: 1714564800, v: 1 }]);
  });

  test('"t" inside a nested object is an ordinary value', () => {
    assert.deepEqual(convert({ probe: { t: 4.5 } }), [{ n: 'probe.t', t: NOW, v: 4.5 }]);
  });
});

describe('plain JSON rejections name the key', () => {
  test('the body must be an object', () => {
    rejects([{ n: 'a', v: 1 }], 'SENML_NOT_OBJECT', undefined);
    rejects(42, 'SENML_NOT_OBJECT', undefined);
    rejects(null, 'SENML_NOT_OBJECT', undefined);
  });
  test('arrays and null', () => {
    rejects(
      { ok: 1, env: { samples: [1, 2] } },
      'SENML_BAD_TYPE',
      'env.samples',
      /key "env.samples" is an array/,
    );
    rejects({ gone: null }, 'SENML_BAD_TYPE', 'gone', /key "gone" is null/);
  });
  test('numbers outside the double range', () => {
    rejects(JSON.parse('{"x":1e999}'), 'SENML_NOT_FINITE', 'x');
  });
  test('keys that make invalid names', () => {
    rejects(
      { 'room temp': 21 },
      'SENML_INVALID_NAME',
      'room temp',
      /key "room temp": name "room temp" must match/,
    );
    rejects({ bn: '-', x: 1 }, 'SENML_INVALID_NAME', 'x');
    rejects({ a: { 'b/c d': 1 } }, 'SENML_INVALID_NAME', 'a.b/c d');
  });
  test('bad "bn" and bad times', () => {
    rejects({ bn: 5, x: 1 }, 'SENML_BAD_TYPE', 'bn');
    rejects({ t: 1, time: 2, x: 1 }, 'SENML_BAD_TIME', 'time');
    rejects({ time: 'yesterday', x: 1 }, 'SENML_BAD_TIME', 'time', /"yesterday"/);
    rejects({ time: '2024-05-01T12:00:00', x: 1 }, 'SENML_BAD_TIME', 'time'); // no zone: ambiguous
    rejects({ time: '2024-02-30T12:00:00Z', x: 1 }, 'SENML_BAD_TIME', 'time');
    rejects({ t: '1970-01-02T00:00:00Z', x: 1 }, 'SENML_BAD_TIME', 't'); // would read as relative
    rejects({ t: true, x: 1 }, 'SENML_BAD_TIME', 't');
  });
  test('no values, too many values, too deep', () => {
    rejects({}, 'SENML_EMPTY', undefined);
    rejects({ bn: 'x', t: 5, empty: {} }, 'SENML_EMPTY', undefined);
    assert.throws(
      () => convert({ a: 1, b: 2, c: 3 }, 2),
      (err) => isSenmlError(err, 'SENML_TOO_LARGE'),
    );
    let deep: Record<string, unknown> = { x: 1 };
    for (let i = 0; i < 8; i++) deep = { d: deep };
    rejects(deep, 'SENML_TOO_LARGE', 'd.d.d.d.d.d.d.d');
    assert.equal(convert((deep as { d: Record<string, unknown> }).d)[0]?.n, 'd.d.d.d.d.d.d.x');
  });
});

describe("ThingsBoard's device telemetry", () => {
  const decode = (body: unknown) =>
    decodeMessage('application/json', new TextEncoder().encode(JSON.stringify(body)), { now: NOW }).records;

  test('{"ts": <ms>, "values": {…}}: the values at that time', () => {
    assert.deepEqual(
      decode({ ts: 1451649600512, values: { temperature: 42.2, state: 'ok', env: { rh: 40 } } }),
      [
        { n: 'temperature', t: 1451649600.512, v: 42.2 },
        { n: 'state', t: 1451649600.512, vs: 'ok' },
        { n: 'env.rh', t: 1451649600.512, v: 40 },
      ],
    );
  });

  test('an array of them, records in order', () => {
    assert.deepEqual(
      decode([
        { ts: 1451649600512, values: { a: 1 } },
        { ts: 1451649601512, values: { a: 2, b: true } },
      ]),
      [
        { n: 'a', t: 1451649600.512, v: 1 },
        { n: 'a', t: 1451649601.512, v: 2 },
        { n: 'b', t: 1451649601.512, vb: true },
      ],
    );
  });

  test('"ts" must be milliseconds; seconds are named as the likely mistake', () => {
    assert.throws(
      () => decode({ ts: 1451649600, values: { a: 1 } }),
      (err) =>
        isSenmlError(err, 'SENML_BAD_TIME') && err.field === 'ts' && /was this seconds\?/.test(err.message),
    );
    assert.throws(
      () =>
        decode([
          { ts: 1451649600512, values: { a: 1 } },
          { ts: '2016', values: { a: 1 } },
        ]),
      (err) => isSenmlError(err, 'SENML_BAD_TIME') && err.field === '1.ts',
    );
    assert.throws(
      () => decode({ ts: 1451649600512, values: { a: [1] } }),
      (err) => isSenmlError(err, 'SENML_BAD_TYPE') && err.field === 'values.a',
    );
  });

  test('any other shape keeps its meaning: a SenML pack, or plain values named ts and values', () => {
    assert.deepEqual(decode([{ n: 'a', t: 1.6e9, v: 1 }]), [{ n: 'a', t: 1.6e9, v: 1 }]);
    assert.deepEqual(decode({ ts: 5, values: { a: 1 }, other: 2 }), [
      { n: 'ts', t: NOW, v: 5 },
      { n: 'values.a', t: NOW, v: 1 },
      { n: 'other', t: NOW, v: 2 },
    ]);
  });
});
