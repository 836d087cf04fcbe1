import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsServer, waitFor } from '@telly/harness';
import { v7 } from 'uuid';
import { type Job, JobQueue } from './job-queue.ts';

const PREFIX = 'telly.jobs.test';

describe('JobQueue with a NATS peer: two instances answer for each other’s jobs', () => {
  let server: NatsServer;
  let ncA: NatsConnection;
  let ncB: NatsConnection;
  let a: JobQueue<{ at: Date; n: number }>;
  let b: JobQueue<{ at: Date; n: number }>;
  const tenant = v7();
  const otherTenant = v7();

  before(async () => {
    server = await NatsServer.start();
    [ncA, ncB] = await Promise.all([connect({ servers: server.url }), connect({ servers: server.url })]);
    a = new JobQueue({ peer: { nc: ncA, subjectPrefix: PREFIX } });
    b = new JobQueue({ peer: { nc: ncB, subjectPrefix: PREFIX } });
    await Promise.all([ncA.flush(), ncB.flush()]);
  });

  after(async () => {
    a.close();
    b.close();
    await Promise.all([ncA.drain(), ncB.drain()]);
    await server.stop();
  });

  it('reads, follows to its end and cancels from B a job submitted on A', async () => {
    let progress!: (p: number) => void;
    const job = a.submit(tenant, 'train', 'm', (signal, report) => {
      progress = report;
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    });
    const read = await b.get(tenant, job.id);
    assert.equal(read?.status, 'running');
    assert.ok(read?.createdAt instanceof Date, 'dates are revived');
    assert.equal(read?.createdAt.toISOString(), job.createdAt.toISOString());

    const seen: (Job | undefined)[] = [];
    const unwatch = b.watch(tenant, job.id, (j) => seen.push(j));
    await waitFor(() => seen.length > 0, { what: 'the job as it is now' });
    progress(0.5);
    await waitFor(() => seen.at(-1)?.progress === 0.5, { what: 'the progress seen on B' });

    const cancelled = await b.cancel(tenant, job.id);
    assert.equal(cancelled?.status, 'cancelled');
    assert.equal((await a.get(tenant, job.id))?.status, 'cancelled', 'cancelled where it runs');
    await waitFor(() => seen.at(-1)?.status === 'cancelled', { what: 'the end seen on B' });
    assert.ok(seen.at(-1)?.finishedAt instanceof Date);
    unwatch();
  });

  it('carries a finished job’s result, its dates as ISO strings', async () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const job = a.submit(tenant, 'predict', 'm', async () => ({ at, n: 3 }));
    const done = await waitFor(async () => {
      const j = await b.get(tenant, job.id);
      return j?.status === 'done' && j;
    });
    assert.deepEqual(done.result, { at: at.toISOString(), n: 3 });
    assert.equal(done.error, undefined);
  });

  it('answers no other tenant, and a malformed id names no job', async () => {
    const job = a.submit(tenant, 'predict', 'm', () => new Promise(() => {}));
    assert.equal(await b.get(otherTenant, job.id), undefined);
    assert.equal(await b.cancel(otherTenant, job.id), undefined);
    assert.equal((await a.get(tenant, job.id))?.status, 'running', 'still running');
    const gone = await new Promise((resolve) => b.watch(otherTenant, job.id, resolve));
    assert.equal(gone, undefined);
    for (const id of ['*', '>', `${job.id}.x`, `${tenant}.${job.id}`, 'not-an-id']) {
      assert.equal(await b.get(tenant, id), undefined, id);
      assert.equal(await b.cancel(tenant, id), undefined, id);
    }
    assert.equal(await b.get(tenant, v7()), undefined, 'an id no instance holds');
    await a.cancel(tenant, job.id);
  });

  it('a watch from B ends as "no such job" when the instance holding it dies without a word', async () => {
    const ncC = await connect({ servers: server.url });
    const c = new JobQueue({ peer: { nc: ncC, subjectPrefix: PREFIX } });
    await ncC.flush();
    const job = c.submit(tenant, 'train', 'm', () => new Promise(() => {}));
    const seen: (Job | undefined)[] = [];
    const unwatch = b.watch(tenant, job.id, (j) => seen.push(j));
    await waitFor(() => seen.at(-1)?.status === 'running', { what: 'the job seen running on B' });
    await ncC.close(); // its process gone: no answer, no last change
    await waitFor(() => seen.length > 1 && seen.at(-1) === undefined, {
      what: 'the watch ended',
      timeoutMs: 20_000,
    });
    unwatch();
  });
});
