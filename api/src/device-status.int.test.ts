// Thing.status, Thing.rejections and the rejections query from what the bridges record, and the
// dead-letter queue for the operator tenant's admins.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { DLQ_HEADERS, Publisher } from '@telly/runtime';
import { createEvent, dlqSubject, type RejectionReason } from '@telly/schemas';
import { v7 } from 'uuid';
import type { Api } from './compose.ts';
import {
  errorCode,
  ok,
  type Signed,
  type Stack,
  signup,
  startOperatorStack,
  startStack,
} from './testing/stack.ts';

const STATUS = `query($id: ID!) {
  thing(id: $id) {
    status { online lastSeenAt lastMessageAt protocol offlineReason }
    rejections(first: 10) { totalCount nodes { id time thingId protocol reason detail } }
  }
}`;
const REJECTIONS = `query($thingId: ID, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  rejections(thingId: $thingId, from: $from, to: $to, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { thingId reason detail time }
  }
}`;
const DEAD_LETTERS = `query($processor: String, $first: Int) {
  deadLetters(processor: $processor, first: $first) {
    processor seq stream subject originalSeq reason time deliveries headers payload
  }
}`;

interface Status {
  online: boolean;
  lastSeenAt: string | null;
  lastMessageAt: string | null;
  protocol: string | null;
  offlineReason: string | null;
}
interface Rejection {
  id: string;
  time: string;
  thingId: string | null;
  protocol: string;
  reason: string;
  detail: string;
}
type StatusAnswer = { thing: { status: Status; rejections: { totalCount: number; nodes: Rejection[] } } };

describe('device status and refused publishes', () => {
  let stack: Stack;
  let owner: Signed;
  let thingId: string;
  let publisher: Publisher;

  before(async () => {
    stack = await startStack();
    owner = await signup(stack.url, `devices-${Date.now()}@example.com`, 'devices');
    const created = await ok<{ createThing: { thing: { id: string } } }>(
      stack.url,
      'mutation { createThing(input: { name: "sensor" }) { thing { id } } }',
      {},
      owner.accessToken,
    );
    thingId = created.createThing.thing.id;
    publisher = new Publisher(jetstream(stack.nc));
  });
  after(() => stack?.stop());

  const tenantId = () => owner.user.tenant.id;
  const at = (ms: number) => ({ id: v7({ msecs: ms }), now: ms });
  const presence = () => ({ thingId, protocol: 'mqtt' as const, remoteAddress: '203.0.113.9:40000' });
  const reject = (ms: number, reason: RejectionReason, detail: string, thing: string | null = thingId) =>
    publisher.publishEvent(
      createEvent(
        'message.rejected',
        {
          tenantId: tenantId(),
          data: { protocol: 'mqtt', reason, detail, ...(thing ? { thingId: thing } : {}) },
        },
        at(ms),
      ),
    );
  const statusOf = (until: (a: StatusAnswer) => boolean, what: string) =>
    waitFor(
      async () => {
        const answer = await ok<StatusAnswer>(stack.url, STATUS, { id: thingId }, owner.accessToken);
        return until(answer) && answer;
      },
      { what },
    );

  test('a thing that never connected is offline and never seen', async () => {
    const { thing } = await ok<StatusAnswer>(stack.url, STATUS, { id: thingId }, owner.accessToken);
    assert.deepEqual(thing.status, {
      online: false,
      lastSeenAt: null,
      lastMessageAt: null,
      protocol: null,
      offlineReason: null,
    });
    assert.equal(thing.rejections.totalCount, 0);
  });

  test('online while its session is open; after it ends, offline and last seen then', async () => {
    const t0 = Date.now() - 5_000;
    await publisher.publishEvent(
      createEvent('thing.online', { tenantId: tenantId(), data: presence() }, at(t0)),
    );
    const up = await statusOf((a) => a.thing.status.online, 'online');
    assert.equal(up.thing.status.protocol, 'mqtt');
    assert.equal(up.thing.status.lastSeenAt, new Date(t0).toISOString());
    await publisher.publishEvent(
      createEvent(
        'thing.offline',
        { tenantId: tenantId(), data: { ...presence(), reason: 'disconnected' } },
        at(t0 + 1_000),
      ),
    );
    const down = await statusOf((a) => !a.thing.status.online, 'offline');
    assert.equal(down.thing.status.lastSeenAt, new Date(t0 + 1_000).toISOString());
    assert.equal(down.thing.status.offlineReason, 'disconnected');
  });

  test('refused publishes: newest first on the thing and in the tenant-wide query, by thing and time', async () => {
    const t0 = Date.now() - 60_000;
    await reject(t0, 'invalid-payload', 'not SenML: unexpected token');
    await reject(t0 + 1_000, 'payload-too-large', 'the message is 5242880 bytes, at most 262144 allowed');
    await reject(t0 + 2_000, 'forbidden', 'no thing known', null);
    const answer = await statusOf((a) => a.thing.rejections.totalCount === 2, 'two rejections of the thing');
    assert.deepEqual(
      answer.thing.rejections.nodes.map((r) => [r.reason, r.protocol, r.thingId]),
      [
        ['payload-too-large', 'mqtt', thingId],
        ['invalid-payload', 'mqtt', thingId],
      ],
    );
    assert.equal(answer.thing.rejections.nodes[1]?.time, new Date(t0).toISOString());
    type Page = {
      rejections: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        nodes: Rejection[];
      };
    };
    const all = await waitFor(
      async () => {
        const page = await ok<Page>(stack.url, REJECTIONS, { first: 2 }, owner.accessToken);
        return page.rejections.totalCount === 3 && page;
      },
      { what: 'all three in the tenant' },
    );
    assert.deepEqual(
      all.rejections.nodes.map((r) => r.reason),
      ['forbidden', 'payload-too-large'],
    );
    assert.equal(all.rejections.nodes[0]?.thingId, null);
    assert.equal(all.rejections.pageInfo.hasNextPage, true);
    const rest = await ok<Page>(
      stack.url,
      REJECTIONS,
      { first: 2, after: all.rejections.pageInfo.endCursor },
      owner.accessToken,
    );
    assert.deepEqual(
      rest.rejections.nodes.map((r) => r.reason),
      ['invalid-payload'],
    );
    const window = await ok<Page>(
      stack.url,
      REJECTIONS,
      { thingId, from: new Date(t0 + 500).toISOString(), to: new Date(t0 + 1_500).toISOString() },
      owner.accessToken,
    );
    assert.deepEqual(
      window.rejections.nodes.map((r) => r.detail),
      ['the message is 5242880 bytes, at most 262144 allowed'],
    );
    const someoneElse = await signup(stack.url, `other-${Date.now()}@example.com`, 'other');
    const theirs = await ok<Page>(stack.url, REJECTIONS, {}, someoneElse.accessToken);
    assert.equal(theirs.rejections.totalCount, 0, 'another tenant sees none of them');
    assert.equal(await errorCode(stack.url, REJECTIONS, {}), 'UNAUTHENTICATED');
  });
});

describe('deadLetters', () => {
  let stack: Stack;
  let api: Api;
  let url: string;
  let operator: Signed;
  let tenant: Signed;

  before(async () => {
    ({ stack, operator, tenant, api, url } = await startOperatorStack());
  });
  after(async () => {
    await api?.close();
    await stack?.stop();
  });

  test('lists the entries of the DLQ, oldest first, to admins of the operator tenant only', async () => {
    const js = jetstream(stack.nc);
    const craft = async (processor: string, reason: string) => {
      const h = natsHeaders();
      h.set('Content-Type', 'application/senml+json');
      h.set(DLQ_HEADERS.reason, reason);
      h.set(DLQ_HEADERS.stream, 'MESSAGES');
      h.set(DLQ_HEADERS.subject, `msg.${v7()}.${v7()}.${v7()}`);
      h.set(DLQ_HEADERS.sequence, '42');
      h.set(DLQ_HEADERS.deliveries, '5');
      return (await js.publish(dlqSubject(processor), '[{"n":"t","v":1}]', { headers: h })).seq;
    };
    const first = await craft('telemetry-pg', 'time zone displacement out of range');
    await craft('commands-status', 'boom');

    assert.equal(
      await errorCode(url, DEAD_LETTERS, {}, tenant.accessToken),
      'FORBIDDEN',
      'another tenant’s owner',
    );
    assert.equal(await errorCode(url, DEAD_LETTERS, {}), 'UNAUTHENTICATED');
    assert.equal(
      await errorCode(stack.url, DEAD_LETTERS, {}, operator.accessToken),
      'FORBIDDEN',
      'none configured',
    );

    const opToken = operator.accessToken;
    type Entries = { deadLetters: Record<string, unknown>[] };
    const all = await ok<Entries>(url, DEAD_LETTERS, {}, opToken);
    assert.deepEqual(
      all.deadLetters.map((d) => d.processor),
      ['telemetry-pg', 'commands-status'],
    );
    const only = await ok<Entries>(url, DEAD_LETTERS, { processor: 'telemetry-pg' }, opToken);
    assert.equal(only.deadLetters.length, 1);
    const [entry] = only.deadLetters;
    assert.equal(entry?.seq, first);
    assert.equal(entry?.stream, 'MESSAGES');
    assert.equal(entry?.originalSeq, 42);
    assert.equal(entry?.reason, 'time zone displacement out of range');
    assert.equal(entry?.deliveries, 5);
    assert.deepEqual(entry?.headers, { 'Content-Type': ['application/senml+json'] });
    assert.equal(entry?.payload, '[{"n":"t","v":1}]');
    assert.equal(await errorCode(url, DEAD_LETTERS, { processor: 'a.b' }, opToken), 'VALIDATION_FAILED');
  });
});
