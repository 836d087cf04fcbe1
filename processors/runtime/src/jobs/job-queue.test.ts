import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJobError } from './job-error.ts';
import { type Job, JobQueue } from './job-queue.ts';

/** A job body the test finishes by hand. */
function gate<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, signal: undefined as AbortSignal | undefined };
}

describe('JobQueue', () => {
  it('runs a tenant’s jobs queued → running → done / failed, at most `concurrency` at once', async () => {
    const queue = new JobQueue({ concurrency: 1 });
    const first = gate<string>();
    const second = gate<string>();
    const seen: string[] = [];
    const a = queue.submit('t1', 'predict', 'm', () => first.promise);
    const b = queue.submit('t1', 'predict', 'm', () => second.promise);
    queue.watch('t1', b.id, (j) => j && seen.push(j.status));
    assert.equal((await queue.get('t1', a.id))?.status, 'running');
    assert.equal((await queue.get('t1', b.id))?.status, 'queued');
    first.resolve('ok');
    await first.promise;
    await new Promise((r) => setImmediate(r));
    assert.equal((await queue.get('t1', a.id))?.status, 'done');
    assert.equal((await queue.get('t1', a.id))?.result, 'ok');
    assert.equal((await queue.get('t1', b.id))?.status, 'running');
    second.reject(new Error('the model failed'));
    await second.promise.catch(() => {});
    await new Promise((r) => setImmediate(r));
    const failed = (await queue.get('t1', b.id)) as Job;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error, 'the model failed');
    assert.deepEqual(seen, ['queued', 'running', 'failed']);
    queue.close();
  });

  it('cancels a queued or running job (its signal aborts); another tenant cannot see or cancel it', async () => {
    const queue = new JobQueue({ concurrency: 1 });
    let aborted = false;
    const running = queue.submit('t1', 'predict', 'm', (signal) => {
      signal.addEventListener('abort', () => {
        aborted = true;
      });
      return new Promise(() => {});
    });
    const queued = queue.submit('t1', 'predict', 'm', () => Promise.resolve(1));
    assert.equal(await queue.get('t2', running.id), undefined);
    assert.equal(await queue.cancel('t2', running.id), undefined);
    assert.equal((await queue.cancel('t1', queued.id))?.status, 'cancelled');
    assert.equal((await queue.cancel('t1', running.id))?.status, 'cancelled');
    assert.ok(aborted);
    queue.close();
  });

  it('fails a job past its timeout, and refuses more than maxQueued per tenant', async () => {
    const queue = new JobQueue({ concurrency: 1, timeoutMs: 20, maxQueued: 2 });
    const stuck = queue.submit('t1', 'train', 'm', () => new Promise(() => {}));
    queue.submit('t1', 'train', 'm', () => new Promise(() => {}));
    assert.throws(
      () => queue.submit('t1', 'train', 'm', () => Promise.resolve()),
      (err) => isJobError(err, 'QUEUE_FULL') && /at most 2 jobs/.test(err.message),
    );
    queue.submit('t2', 'train', 'm', () => Promise.resolve()); // another tenant's queue is its own
    const ended = await new Promise<Job>((resolve) =>
      queue.watch('t1', stuck.id, (j) => j?.status === 'failed' && resolve(j)),
    );
    assert.match(ended.error ?? '', /longer than 20 ms/);
    queue.close();
  });
});
