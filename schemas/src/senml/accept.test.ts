import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  acceptedWindow,
  checkAccepted,
  checkStorable,
  DEFAULT_ACCEPT_POLICY,
  isUnstorableError,
  STORABLE,
  type UnstorableCode,
} from './accept.ts';
import { decodeMessage } from './decode.ts';
import type { ResolvedSenmlRecord } from './types.ts';

/** 2026-12-01T09:00:00Z */
const NOW_MS = Date.UTC(2026, 11, 1, 9);
const NOW = NOW_MS / 1000;
const DAY = 86_400;

function refused(
  run: () => void,
  code: UnstorableCode,
  index: number,
  field: string,
  message?: RegExp,
): void {
  assert.throws(run, (err) => {
    assert.ok(isUnstorableError(err), String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.index, index);
    assert.equal(err.field, field);
    assert.match(err.message, new RegExp(`^record ${index}: `));
    if (message) assert.match(err.message, message);
    return true;
  });
}

const accept = (records: ResolvedSenmlRecord[], policy = DEFAULT_ACCEPT_POLICY) =>
  checkAccepted(records, NOW_MS, policy);

describe('the accepted time window', () => {
  test('by default: from the epoch to one day after receipt, both ends included', () => {
    assert.deepEqual(acceptedWindow(NOW_MS, DEFAULT_ACCEPT_POLICY), { fromMs: 0, toMs: NOW_MS + DAY * 1000 });
    accept([
      { n: 'a', t: 0, v: 1 },
      { n: 'b', t: NOW + DAY, v: 1 },
    ]);
    refused(() => accept([{ n: 'a', t: NOW + DAY + 0.001, v: 1 }]), 'SENML_TIME_OUT_OF_RANGE', 0, 't');
    refused(() => accept([{ n: 'a', t: -0.001, v: 1 }]), 'SENML_TIME_OUT_OF_RANGE', 0, 't', /before/);
  });

  test('a time in milliseconds, microseconds or nanoseconds is named as the likely mistake', () => {
    refused(
      () => accept([{ n: 'ms', t: 1796110000000, v: 1 }]),
      'SENML_TIME_OUT_OF_RANGE',
      0,
      't',
      /^record 0: t=1796110000000 is year 58886, after the accepted window .*: was this milliseconds\?$/,
    );
    refused(
      () =>
        accept([
          { n: 'a', t: NOW, v: 1 },
          { n: 'us', t: NOW * 1e6, v: 1 },
        ]),
      'SENML_TIME_OUT_OF_RANGE',
      1,
      't',
      /was this microseconds\?$/,
    );
    refused(
      () => accept([{ n: 'ns', t: NOW * 1e9, v: 1 }]),
      'SENML_TIME_OUT_OF_RANGE',
      0,
      't',
      /nanoseconds\?$/,
    );
    // beyond every unit: no guess
    assert.throws(
      () => accept([{ n: 'x', t: 1e300, v: 1 }]),
      (err) => isUnstorableError(err) && !/was this/.test(err.message) && /year /.test(err.message),
    );
  });

  test('past and future are settings', () => {
    const policy = { ...DEFAULT_ACCEPT_POLICY, pastMs: 7 * DAY * 1000, futureMs: 60_000 };
    accept([{ n: 'a', t: NOW - 7 * DAY, v: 1 }], policy);
    refused(
      () => accept([{ n: 'a', t: NOW - 7 * DAY - 1, v: 1 }], policy),
      'SENML_TIME_OUT_OF_RANGE',
      0,
      't',
    );
    refused(() => accept([{ n: 'a', t: NOW + 61, v: 1 }], policy), 'SENML_TIME_OUT_OF_RANGE', 0, 't');
    // a window never reaches past what can be stored
    const wide = { ...DEFAULT_ACCEPT_POLICY, futureMs: Number.POSITIVE_INFINITY };
    assert.equal(acceptedWindow(NOW_MS, wide).toMs, STORABLE.maxTimeMs);
  });

  test('years ≥ 10000, negative years and times beyond JavaScript dates are refused', () => {
    for (const t of [253402300800, -62198755200, -1e14, 8.64e12 + 1]) {
      assert.throws(
        () => checkStorable([{ n: 'a', t, v: 1 }]),
        (err) => isUnstorableError(err, 'SENML_TIME_OUT_OF_RANGE'),
      );
    }
    checkStorable([{ n: 'a', t: STORABLE.maxTimeMs / 1000, v: 1 }]);
  });
});

describe('one message spans at most maxMonths calendar months (each may be a new partition)', () => {
  test('two months by default: a pack across a month boundary passes, a third month is refused', () => {
    const nov30 = Date.UTC(2026, 10, 30, 23) / 1000;
    accept([
      { n: 'a', t: nov30, v: 1 },
      { n: 'a', t: nov30 + 7200, v: 2 },
      { n: 'a', t: nov30 + 3600, v: 3 },
    ]);
    const records = Array.from({ length: 24 }, (_, i) => ({ n: 'a', t: Date.UTC(2024, i, 1) / 1000, v: i }));
    refused(() => accept(records), 'SENML_TOO_MANY_MONTHS', 2, 't', /3 calendar months, more than the 2/);
    accept(records, { ...DEFAULT_ACCEPT_POLICY, maxMonths: 24 });
  });
});

describe('values and text every projection can store', () => {
  test('numbers: zero or a magnitude from 1e-150 to 1e150, for v and s', () => {
    checkStorable([
      { n: 'a', t: NOW, v: 0 },
      { n: 'a', t: NOW, v: -1e150 },
      { n: 'a', t: NOW, v: 1e-150, s: 1e150 },
    ]);
    refused(() => checkStorable([{ n: 'a', t: NOW, v: 1.7e308 }]), 'SENML_VALUE_OUT_OF_RANGE', 0, 'v');
    refused(() => checkStorable([{ n: 'a', t: NOW, v: 5e-324 }]), 'SENML_VALUE_OUT_OF_RANGE', 0, 'v');
    refused(() => checkStorable([{ n: 'a', t: NOW, s: -1e151 }]), 'SENML_VALUE_OUT_OF_RANGE', 0, 's');
  });

  test('no NUL in any text, no control character in a unit, bounded lengths', () => {
    refused(
      () => checkStorable([{ n: 'a', t: NOW, vs: 'a\u0000b' }]),
      'SENML_UNSTORABLE_TEXT',
      0,
      'vs',
      /NUL/,
    );
    refused(() => checkStorable([{ n: 'a', u: 'C\u0000', t: NOW, v: 1 }]), 'SENML_UNSTORABLE_TEXT', 0, 'u');
    refused(() => checkStorable([{ n: 'a', u: 'C\nel', t: NOW, v: 1 }]), 'SENML_UNSTORABLE_TEXT', 0, 'u');
    checkStorable([{ n: 'a', t: NOW, vs: 'tab\tand\nnewline are fine in a string value' }]);
    const longest = `${'é'.repeat(32_767)}x`; // 2 bytes a character: 65,535 bytes
    checkStorable([{ n: 'a', t: NOW, vs: longest }]);
    refused(
      () => checkStorable([{ n: 'a', t: NOW, vs: `${longest}x` }]),
      'SENML_UNSTORABLE_TEXT',
      0,
      'vs',
      /65536 bytes long, at most 65535/,
    );
    refused(() => checkStorable([{ n: 'a'.repeat(1025), t: NOW, v: 1 }]), 'SENML_UNSTORABLE_TEXT', 0, 'n');
    refused(
      () => checkStorable([{ n: 'a', t: NOW, vd: 'A'.repeat(65_536) }]),
      'SENML_UNSTORABLE_TEXT',
      0,
      'vd',
    );
  });

  test('a NUL arrives through JSON escapes, in SenML and in plain JSON alike', () => {
    const decode = (type: string, body: string) =>
      checkStorable(decodeMessage(type, new TextEncoder().encode(body), { now: NOW }).records);
    refused(
      () => decode('application/senml+json', '[{"n":"a","vs":"x\\u0000"}]'),
      'SENML_UNSTORABLE_TEXT',
      0,
      'vs',
    );
    refused(() => decode('application/json', '{"a":"x\\u0000"}'), 'SENML_UNSTORABLE_TEXT', 0, 'vs');
  });
});
