import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, retryInPlace } from './retry.ts';

test('backoff delays grow by the factor up to the cap, and jitter only shortens them', () => {
  const backoff = new Backoff({ minMs: 100, maxMs: 1_000 });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 500].map((n) => backoff.delay(n)),
    [100, 200, 400, 800, 1_000, 1_000],
  );
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [100, 200, 400]);
  backoff.reset();
  assert.equal(backoff.next(), 100);
  const jittered = new Backoff({ minMs: 1_000, maxMs: 1_000, jitter: 0.5 });
  for (let i = 0; i < 100; i++) {
    const delay = jittered.delay(3);
    assert.ok(delay >= 500 && delay <= 1_000, String(delay));
  }
});

test('retryInPlace retries what is retryable, with the attempt number, and throws the rest', async () => {
  const backoff = new Backoff({ minMs: 1, maxMs: 1 });
  const seen: number[] = [];
  const result = await retryInPlace(
    async (attempt) => {
      seen.push(attempt);
      if (attempt < 4) throw new Error('transient');
      return 'done';
    },
    { isRetryable: () => true, backoff, firstAttempt: 2 },
  );
  assert.equal(result, 'done');
  assert.deepEqual(seen, [2, 3, 4]);

  let calls = 0;
  await assert.rejects(
    retryInPlace(
      async () => {
        calls++;
        throw new Error(calls < 3 ? 'transient' : 'fatal');
      },
      { isRetryable: (err) => (err as Error).message === 'transient', backoff },
    ),
    /fatal/,
  );
  assert.equal(calls, 3);
});

test('an abort ends the wait at once and throws the last error', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const retried: number[] = [];
  await assert.rejects(
    retryInPlace(
      async () => {
        throw new Error('down');
      },
      {
        isRetryable: () => true,
        backoff: new Backoff({ minMs: 60_000, maxMs: 60_000 }),
        signal: controller.signal,
        onRetry: (_err, attempt) => {
          retried.push(attempt);
          controller.abort();
        },
      },
    ),
    /down/,
  );
  assert.deepEqual(retried, [1]);
  assert.ok(Date.now() - started < 10_000, 'did not wait out the backoff');
});
