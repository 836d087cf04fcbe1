import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DURATION_UNITS,
  DurationError,
  type DurationErrorCode,
  isDurationError,
  MAX_DURATION_LENGTH,
  parseDuration,
} from './duration.ts';

function throwsCode(fn: () => unknown, code: DurationErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isDurationError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

describe('parseDuration', () => {
  it('reads a whole number and a unit as milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1w'), 7 * 86_400_000);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration(' 30s\n'), 30_000, 'surrounding whitespace is ignored');
  });

  it('has one unit table, every unit a multiple of the one below', () => {
    assert.deepEqual(Object.keys(DURATION_UNITS), ['ms', 's', 'm', 'h', 'd', 'w']);
    for (const [unit, ms] of Object.entries(DURATION_UNITS)) assert.equal(parseDuration(`1${unit}`), ms);
  });

  it('refuses everything else as MALFORMED_DURATION', () => {
    for (const text of [
      '',
      ' ',
      '5',
      's',
      '1.5h',
      '-1s',
      '+1s',
      '1 s',
      '1S',
      '1y',
      '1h30m',
      '1sec',
      '0x10s',
      '１s',
      'Infinity',
    ]) {
      throwsCode(() => parseDuration(text), 'MALFORMED_DURATION');
    }
  });

  it('bounds the input length before looking at it', () => {
    throwsCode(() => parseDuration(`${'9'.repeat(MAX_DURATION_LENGTH)}s`), 'DURATION_TOO_LONG');
    throwsCode(() => parseDuration(`${' '.repeat(MAX_DURATION_LENGTH)}1s`), 'DURATION_TOO_LONG');
    assert.equal(parseDuration(`${'0'.repeat(MAX_DURATION_LENGTH - 2)}1s`), 1_000);
  });

  it('reads a bare number in the unit the caller names, and only then', () => {
    assert.equal(parseDuration('90', { bareUnit: 's' }), 90_000);
    assert.equal(parseDuration('500ms', { bareUnit: 's' }), 500, 'a written unit wins');
    throwsCode(() => parseDuration('90'), 'MALFORMED_DURATION');
    throwsCode(() => parseDuration('', { bareUnit: 's' }), 'MALFORMED_DURATION');
    throwsCode(() => parseDuration('1.5', { bareUnit: 's' }), 'MALFORMED_DURATION');
  });

  it('refuses values beyond exact integer milliseconds, and outside the bounds given', () => {
    throwsCode(() => parseDuration('9999999999999999w'), 'DURATION_OUT_OF_RANGE');
    const ttl = { min: 1_000, max: 7 * 86_400_000 };
    assert.equal(parseDuration('1s', ttl), 1_000);
    assert.equal(parseDuration('7d', ttl), 7 * 86_400_000);
    assert.equal(parseDuration('1w', ttl), 7 * 86_400_000);
    throwsCode(() => parseDuration('999ms', ttl), 'DURATION_OUT_OF_RANGE');
    throwsCode(() => parseDuration('8d', ttl), 'DURATION_OUT_OF_RANGE');
  });

  it('fails with a typed error naming the input, also for untyped callers', () => {
    try {
      parseDuration('soon');
      assert.fail('parsed');
    } catch (err) {
      assert.ok(err instanceof DurationError);
      assert.equal(err.name, 'DurationError');
      assert.equal(err.input, 'soon');
      assert.match(err.message, /"soon" is not a duration/);
    }
    throwsCode(() => parseDuration(undefined as unknown as string), 'MALFORMED_DURATION');
    throwsCode(() => parseDuration(60 as unknown as string), 'MALFORMED_DURATION');
    assert.equal(isDurationError(new Error('x')), false);
  });
});
