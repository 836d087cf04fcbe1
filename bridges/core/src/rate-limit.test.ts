import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_BURST, DEFAULT_RATE_PER_SECOND, parseRateLimit, RateLimiter } from './rate-limit.ts';

test('the per-thing limit comes from TELLY_RATE_PER_SECOND and TELLY_RATE_BURST, else the defaults', () => {
  assert.deepEqual(parseRateLimit({}), { ratePerSecond: DEFAULT_RATE_PER_SECOND, burst: DEFAULT_BURST });
  assert.deepEqual(parseRateLimit({ TELLY_RATE_PER_SECOND: '1000', TELLY_RATE_BURST: '5000' }), {
    ratePerSecond: 1000,
    burst: 5000,
  });
  for (const bad of ['0', '-5', '1.5', 'fast', '1e3']) {
    assert.throws(
      () => parseRateLimit({ TELLY_RATE_PER_SECOND: bad }),
      (err) => isConfigError(err) && err.variable === 'TELLY_RATE_PER_SECOND',
      bad,
    );
  }
  assert.throws(
    () => parseRateLimit({ TELLY_RATE_BURST: '0' }),
    (err) => isConfigError(err) && err.variable === 'TELLY_RATE_BURST',
  );
});

test('a limiter allows the burst at once, then the rate; a per-key limit overrides its own', () => {
  const limiter = RateLimiter.of({ ratePerSecond: 10, burst: 3 });
  const now = 1_000_000;
  assert.deepEqual(
    [1, 2, 3, 4].map(() => limiter.take('a', now)),
    [0, 0, 0, 1],
  );
  assert.equal(limiter.take('a', now + 100), 0, 'one token back after 1/10 s');
  const gateway = { ratePerSecond: 1000, burst: 2000 };
  const taken = Array.from({ length: 2000 }, () => limiter.take('gateway', now, gateway));
  assert.ok(
    taken.every((wait) => wait === 0),
    'a thing allowed more gets its own bucket size',
  );
  assert.equal(limiter.take('gateway', now, gateway), 1);
});
