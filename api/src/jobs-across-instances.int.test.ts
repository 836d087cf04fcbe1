// Jobs behind a load balancer: two API instances on one NATS and Postgres. A job taken by one
// runs there, and the other reads it, follows it to its end and cancels it; never another
// tenant's, and a malformed id names no job.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@telly/harness';
import type { BacktestResult } from '@telly/rules';
import type { Api } from './compose.ts';
import { errorCode, ok, type Signed, type Stack, startOperatorStack, subscribeSse } from './testing/stack.ts';

const JOB =
  'query($id: ID!) { backtestJob(id: $id) { id status progress error result { readings raised } } }';
const FOLLOW = 'subscription($id: ID!) { backtestJob(id: $id) { status progress } }';
const CANCEL = 'mutation($id: ID!) { cancelBacktestJob(id: $id) { status error } }';

interface BacktestJob {
  id: string;
  status: string;
  progress: number;
  error: string | null;
  result: { readings: number; raised: number } | null;
}

describe('jobs are answered by any API instance', () => {
  let stack: Stack;
  let owner: Signed;
  let stranger: Signed;
  let b: Api;
  let urlB: string;

  before(async () => {
    // A is the stack's instance, B the second one beside it
    ({ stack, tenant: owner, operator: stranger, api: b, url: urlB } = await startOperatorStack());
  });
  after(async () => {
    await b?.close();
    await stack?.stop();
  });

  /** A backtest taken by A whose body the test ends: it runs (on A) until `finish` or a cancel. */
  const runningOnA = () => {
    let finish!: (r: BacktestResult) => void;
    let report!: (p: number) => void;
    let aborted = false;
    const job = stack.api.services.rules.backtests.submit(
      owner.user.tenant.id,
      'backtest',
      '0191e5a0-0000-7000-8000-0000000000b1',
      (signal, progress) => {
        report = progress;
        return new Promise((resolve, reject) => {
          finish = resolve;
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        });
      },
    );
    return {
      id: job.id,
      finish: (r: BacktestResult) => finish(r),
      report: (p: number) => report(p),
      aborted: () => aborted,
    };
  };

  test('a backtest started through A is read through B until it is done', async () => {
    const { createThing } = await ok<{ createThing: { thing: { id: string } } }>(
      stack.url,
      'mutation { createThing(input: { name: "probe" }) { thing { id } } }',
      {},
      owner.accessToken,
    );
    const { backtestRule } = await ok<{ backtestRule: { id: string } }>(
      stack.url,
      `mutation($input: CreateRuleInput!, $from: DateTime!, $to: DateTime!) {
        backtestRule(input: $input, from: $from, to: $to) { id }
      }`,
      {
        input: {
          name: 'warm',
          thingId: createThing.thing.id,
          measurement: 'temp',
          condition: { op: 'GT', value: 30 },
        },
        from: new Date(Date.now() - 3_600_000).toISOString(),
        to: new Date().toISOString(),
      },
      owner.accessToken,
    );
    const done = await waitFor(
      async () => {
        const { backtestJob } = await ok<{ backtestJob: BacktestJob | null }>(
          urlB,
          JOB,
          { id: backtestRule.id },
          owner.accessToken,
        );
        return backtestJob?.status === 'DONE' && backtestJob;
      },
      { what: 'the backtest done, seen through B' },
    );
    assert.deepEqual(done, {
      id: backtestRule.id,
      status: 'DONE',
      progress: 1,
      error: null,
      result: { readings: 0, raised: 0 },
    });
  });

  test('a job running on A is followed to its end through B', async () => {
    const job = runningOnA();
    const seen: unknown[] = [];
    const followed = subscribeSse(
      urlB,
      FOLLOW,
      { id: job.id },
      owner.accessToken,
      AbortSignal.timeout(20_000),
      (p) => seen.push(p.data),
    );
    await waitFor(() => seen.length > 0, { what: 'the job as it is now, through B' });
    job.report(0.25);
    await waitFor(
      () => seen.some((d) => (d as { backtestJob: { progress: number } }).backtestJob.progress === 0.25),
      { what: 'its progress, through B' },
    );
    job.finish({ alerts: [], raised: 0, readings: 7, entries: 7 });
    const { errors, data } = await followed;
    assert.deepEqual(errors, []);
    assert.deepEqual(
      data?.at(-1),
      { backtestJob: { status: 'DONE', progress: 1 } },
      'the subscription ends with the job',
    );
    const { backtestJob } = await ok<{ backtestJob: BacktestJob }>(
      urlB,
      JOB,
      { id: job.id },
      owner.accessToken,
    );
    assert.deepEqual(backtestJob.result, { readings: 7, raised: 0 });
  });

  test('a job running on A is cancelled through B', async () => {
    const job = runningOnA();
    const { cancelBacktestJob } = await ok<{ cancelBacktestJob: { status: string; error: string } }>(
      urlB,
      CANCEL,
      { id: job.id },
      owner.accessToken,
    );
    assert.deepEqual(cancelBacktestJob, { status: 'CANCELLED', error: 'cancelled' });
    assert.ok(job.aborted(), 'its work on A was stopped');
    const { backtestJob } = await ok<{ backtestJob: BacktestJob }>(
      stack.url,
      JOB,
      { id: job.id },
      owner.accessToken,
    );
    assert.equal(backtestJob.status, 'CANCELLED');
  });

  test('another tenant cannot read, follow or cancel the job through B; a malformed id is no job', async () => {
    const job = runningOnA();
    const { backtestJob } = await ok<{ backtestJob: unknown }>(
      urlB,
      JOB,
      { id: job.id },
      stranger.accessToken,
    );
    assert.equal(backtestJob, null);
    assert.equal(await errorCode(urlB, CANCEL, { id: job.id }, stranger.accessToken), 'NOT_FOUND');
    const followed = await subscribeSse(
      urlB,
      FOLLOW,
      { id: job.id },
      stranger.accessToken,
      AbortSignal.timeout(10_000),
    );
    assert.equal(followed.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    for (const id of ['*', '>', `${job.id}.x`, 'not-a-job']) {
      assert.equal(
        (await ok<{ backtestJob: unknown }>(urlB, JOB, { id }, owner.accessToken)).backtestJob,
        null,
        id,
      );
      assert.equal(await errorCode(urlB, CANCEL, { id }, owner.accessToken), 'NOT_FOUND', id);
      const bad = await subscribeSse(urlB, FOLLOW, { id }, owner.accessToken, AbortSignal.timeout(10_000));
      assert.equal(bad.errors?.[0]?.extensions?.code, 'NOT_FOUND', id);
    }
    const { backtestJob: still } = await ok<{ backtestJob: BacktestJob }>(
      urlB,
      JOB,
      { id: job.id },
      owner.accessToken,
    );
    assert.equal(still.status, 'RUNNING', 'untouched by the stranger');
    await ok(urlB, CANCEL, { id: job.id }, owner.accessToken);
  });
});
