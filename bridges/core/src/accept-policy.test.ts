import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_ACCEPT_POLICY } from '@telly/schemas';
import { parseAcceptPolicy } from './accept-policy.ts';

test('accepted times: back to 1970, one day ahead, two months a message, unless the environment says otherwise', () => {
  assert.deepEqual(parseAcceptPolicy({}), {
    pastMs: Number.POSITIVE_INFINITY,
    futureMs: 86_400_000,
    maxMonths: 2,
  });
  assert.deepEqual(parseAcceptPolicy({}), { ...DEFAULT_ACCEPT_POLICY });
  assert.deepEqual(
    parseAcceptPolicy({ TELLY_ACCEPT_PAST: '365d', TELLY_ACCEPT_FUTURE: '5m', TELLY_ACCEPT_MONTHS: '13' }),
    { pastMs: 365 * 86_400_000, futureMs: 300_000, maxMonths: 13 },
  );
});

test('a bad setting fails fast, naming the variable', () => {
  for (const [variable, value] of [
    ['TELLY_ACCEPT_PAST', '1 year'],
    ['TELLY_ACCEPT_PAST', '0s'],
    ['TELLY_ACCEPT_FUTURE', '-1d'],
    ['TELLY_ACCEPT_MONTHS', '0'],
    ['TELLY_ACCEPT_MONTHS', 'two'],
  ] as const) {
    assert.throws(
      () => parseAcceptPolicy({ [variable]: value }),
      (err: unknown) =>
        isConfigError(err) && err.variable === variable && err.message.startsWith(`${variable}:`),
      `${variable}=${value}`,
    );
  }
});
