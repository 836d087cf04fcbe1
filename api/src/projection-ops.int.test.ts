// Platform operations over GraphQL: replaying and verifying the telemetry projection, with the
// rebuild's progress as a subscription, for admins of the operator tenant only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Api } from './compose.ts';
import {
  errorCode,
  ok,
  publishReading,
  type Signed,
  type Stack,
  startOperatorStack,
  wsClient,
} from './testing/stack.ts';

const REPLAY = `mutation($p: String!, $fromSeq: Int) {
  replayProjection(projection: $p, fromSeq: $fromSeq) { id state projection }
}`;
const WATCH = `subscription($id: ID!) {
  projectionJob(id: $id) { id state error progress { phase seq targetSeq rate } report { messages points keptRows } }
}`;
const VERIFY = `mutation($p: String!) {
  verifyProjection(projection: $p) { messages points differenceCount differences { thingId day what } }
}`;

interface JobUpdate {
  id: string;
  state: string;
  error: string | null;
  progress: { phase: string } | null;
  report: { messages: number; points: number; keptRows: number } | null;
}

describe('replayProjection / verifyProjection / projectionJob', () => {
  let stack: Stack;
  let operator: Signed;
  let tenant: Signed;
  let api: Api;
  let url: string;

  before(async () => {
    ({ stack, operator, tenant, api, url } = await startOperatorStack());
  });
  after(async () => {
    await api?.close();
    await stack?.stop();
  });

  test('only admins of the operator tenant may replay and verify', async () => {
    assert.equal(await errorCode(url, REPLAY, { p: 'telemetry-pg' }, tenant.accessToken), 'FORBIDDEN');
    assert.equal(await errorCode(url, VERIFY, { p: 'telemetry-pg' }, tenant.accessToken), 'FORBIDDEN');
    assert.equal(await errorCode(url, REPLAY, { p: 'telemetry-pg' }), 'UNAUTHENTICATED');
    // no operator tenant configured: nobody
    assert.equal(
      await errorCode(stack.url, REPLAY, { p: 'telemetry-pg' }, operator.accessToken),
      'FORBIDDEN',
    );
    assert.equal(await errorCode(url, REPLAY, { p: 'registry' }, operator.accessToken), 'VALIDATION_FAILED');
    assert.equal(
      await errorCode(url, REPLAY, { p: 'telemetry-pg', fromSeq: 0 }, operator.accessToken),
      'VALIDATION_FAILED',
    );
  });

  test('a replay runs in the background, its progress and report arrive by subscription, verify agrees', async () => {
    const at = {
      tenantId: tenant.user.tenant.id,
      channelId: '0191e5a0-0000-7000-8000-0000000000c1',
      thingId: '0191e5a0-0000-7000-8000-0000000000a1',
    };
    for (let i = 0; i < 120; i++) {
      await publishReading(stack.nc, at, [
        { n: 'temperature', u: 'Cel', v: i, t: 1_795_000_000 + i * 60 },
        { n: 'humidity', v: 50, t: 1_795_000_000 + i * 60 },
      ]);
    }
    const { replayProjection: job } = await ok<{ replayProjection: { id: string; state: string } }>(
      url,
      REPLAY,
      { p: 'telemetry-pg' },
      operator.accessToken,
    );
    assert.equal(job.state, 'RUNNING');
    const updates: JobUpdate[] = [];
    const client = wsClient(url, operator.accessToken);
    try {
      await new Promise<void>((resolve, reject) => {
        client.subscribe<{ projectionJob: JobUpdate }>(
          { query: WATCH, variables: { id: job.id } },
          {
            next: (r) =>
              r.data ? updates.push(r.data.projectionJob) : reject(new Error(JSON.stringify(r.errors))),
            error: reject,
            complete: resolve,
          },
        );
      });
    } finally {
      await client.dispose();
    }
    const last = updates.at(-1);
    assert.equal(last?.state, 'SUCCEEDED', JSON.stringify(last));
    assert.equal(last?.report?.messages, 120);
    assert.equal(last?.report?.points, 240);
    assert.ok(updates.every((u) => u.id === job.id));

    const { verifyProjection } = await ok<{
      verifyProjection: { messages: number; points: number; differenceCount: number };
    }>(url, VERIFY, { p: 'telemetry-pg' }, operator.accessToken);
    assert.deepEqual(verifyProjection, { messages: 120, points: 240, differenceCount: 0, differences: [] });

    const { telemetry } = await ok<{ telemetry: unknown[] }>(
      stack.url,
      'query($t: ID!) { telemetry(thingId: $t, name: "temperature") { value } }',
      { t: at.thingId },
      tenant.accessToken,
    );
    assert.equal(telemetry.length, 120, 'the tenant reads the rebuilt projection');
  });
});
