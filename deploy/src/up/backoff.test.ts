import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartBackoff, STABLE_AFTER_MS } from './backoff.ts';

test('restart delays double up to the cap and reset after a stable run', () => {
  const backoff = new RestartBackoff(100, 1_000);
  backoff.started(0);
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => backoff.next(10)),
    [100, 200, 400, 800, 1_000],
  );
  backoff.started(10);
  assert.equal(backoff.next(10 + STABLE_AFTER_MS), 100);
});
