// Rules and alerts over GraphQL against real servers (NATS, Postgres, the rules processor):
// malformed rules refused naming the field; a rule raises, the alert is acknowledged, streamed
// and resolved; a backtest over a day of history finds exactly what the live rule raised.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '@telly/harness';
import {
  gql,
  ok,
  publishReading,
  type Signed,
  type Stack,
  signup,
  startStack,
  subscribeSse,
} from './testing/stack.ts';

let stack: Stack;
let owner: Signed;
let thingId: string;
let channelId: string;

const CREATE = `mutation($input: CreateRuleInput!) { createRule(input: $input) { id name enabled condition { op value for clearValue } } }`;

before(async () => {
  stack = await startStack();
  owner = await signup(stack.url, `rules-${Date.now()}@example.com`, 'greenhouse');
  const t = await ok<{ createThing: { thing: { id: string } } }>(
    stack.url,
    'mutation { createThing(input: { name: "soil-1" }) { thing { id } } }',
    {},
    owner.accessToken,
  );
  thingId = t.createThing.thing.id;
  const c = await ok<{ createChannel: { id: string } }>(
    stack.url,
    'mutation { createChannel(input: { name: "beds" }) { id } }',
    {},
    owner.accessToken,
  );
  channelId = c.createChannel.id;
});
after(() => stack?.stop());

test('malformed rules are refused with VALIDATION_FAILED naming the field', async () => {
  const other = await signup(stack.url, `other-${Date.now()}@example.com`, 'other');
  const { createThing } = await ok<{ createThing: { thing: { id: string } } }>(
    stack.url,
    'mutation { createThing(input: { name: "theirs" }) { thing { id } } }',
    {},
    other.accessToken,
  );
  const base = { name: 'r', thingId, measurement: 'moisture' };
  const cases: [Record<string, unknown>, string][] = [
    [{ ...base, condition: { op: 'GT', value: 1, for: 'ten minutes' } }, 'input.condition.for'],
    [{ ...base, condition: { op: 'BETWEEN', value: 30, value2: 10 } }, 'input.condition.value2'],
    [{ ...base, thingId: createThing.thing.id, condition: { op: 'GT', value: 1 } }, 'input.thingId'],
    [
      { ...base, condition: { op: 'LT', value: 30 }, actions: [{ email: { to: ['not an address'] } }] },
      'input.actions[0].email.to[0]',
    ],
    [
      {
        ...base,
        condition: { op: 'LT', value: 30 },
        actions: [{ command: { thingId: createThing.thing.id, name: 'pump' } }],
      },
      'input.actions[0].command.thingId',
    ],
  ];
  for (const [input, field] of cases) {
    const res = await gql(stack.url, CREATE, { input }, owner.accessToken);
    assert.equal(res.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED', JSON.stringify(res.errors));
    assert.equal(res.errors?.[0]?.extensions?.field, field, JSON.stringify(res.errors));
  }
  const { rules } = await ok<{ rules: { totalCount: number } }>(
    stack.url,
    '{ rules { totalCount } }',
    {},
    owner.accessToken,
  );
  assert.equal(rules.totalCount, 0, 'nothing was created');
});

test('a rule raises an alert, streamed live; it is acknowledged with a note and resolved', async () => {
  const { createRule } = await ok<{ createRule: { id: string } }>(
    stack.url,
    CREATE,
    {
      input: {
        name: 'dry soil',
        thingId,
        measurement: 'moisture',
        condition: { op: 'LT', value: 30, clearValue: 35 },
        severity: 'MAJOR',
        message: '{thing}: {name} at {value} %',
      },
    },
    owner.accessToken,
  );
  const live = new AbortController();
  const statuses: string[] = [];
  const streamed = subscribeSse(
    stack.url,
    'subscription { alerts { id status } }',
    {},
    owner.accessToken,
    live.signal,
    (payload) => {
      const alert = (payload.data as { alerts?: { status: string } } | undefined)?.alerts;
      if (alert) statuses.push(alert.status);
    },
  );
  // let the subscription start before the reading
  await waitFor(async () => (await fetch(`${stack.url}/healthz`).catch(() => undefined)) !== undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await publishReading(stack.nc, { tenantId: owner.user.tenant.id, channelId, thingId }, [
    { n: 'moisture', v: 22 },
  ]);
  type Alerts = {
    alerts: { nodes: { id: string; status: string; message: string; value: number; rule: { id: string } }[] };
  };
  const ALERTS = '{ alerts(thingId: "THING") { nodes { id status message value rule { id } } } }'.replace(
    'THING',
    thingId,
  );
  const alert = await waitFor(
    async () => (await ok<Alerts>(stack.url, ALERTS, {}, owner.accessToken)).alerts.nodes[0],
    {
      what: 'the alert',
    },
  );
  assert.equal(alert.status, 'OPEN');
  assert.equal(alert.rule.id, createRule.id);
  assert.equal(alert.value, 22);
  assert.equal(alert.message, `${thingId}: moisture at 22 %`);
  const { acknowledgeAlert } = await ok<{
    acknowledgeAlert: { status: string; note: string; acknowledgedBy: string };
  }>(
    stack.url,
    'mutation($id: ID!) { acknowledgeAlert(id: $id, note: "watering now") { status note acknowledgedBy } }',
    { id: alert.id },
    owner.accessToken,
  );
  assert.deepEqual(acknowledgeAlert, {
    status: 'ACKNOWLEDGED',
    note: 'watering now',
    acknowledgedBy: owner.user.id,
  });
  // hysteresis: 33 % is above the threshold but below the clear value, so it stays
  await publishReading(stack.nc, { tenantId: owner.user.tenant.id, channelId, thingId }, [
    { n: 'moisture', v: 33 },
  ]);
  await publishReading(stack.nc, { tenantId: owner.user.tenant.id, channelId, thingId }, [
    { n: 'moisture', v: 40 },
  ]);
  await waitFor(
    async () =>
      (await ok<Alerts>(stack.url, ALERTS, {}, owner.accessToken)).alerts.nodes[0]?.status === 'RESOLVED',
    { what: 'resolved' },
  );
  await waitFor(() => statuses.includes('RESOLVED'), { what: 'the resolution streamed' });
  live.abort();
  await streamed;
  assert.deepEqual(statuses, ['OPEN', 'ACKNOWLEDGED', 'RESOLVED']);
  assert.equal(
    (await ok<Alerts>(stack.url, ALERTS, {}, owner.accessToken)).alerts.nodes.length,
    1,
    'one alert',
  );
});

test('a backtest over a day of history finds what the live rule raised on the same data', async () => {
  const { createThing } = await ok<{ createThing: { thing: { id: string } } }>(
    stack.url,
    'mutation { createThing(input: { name: "greenhouse-air" }) { thing { id } } }',
    {},
    owner.accessToken,
  );
  const thing = createThing.thing.id;
  const input = {
    name: 'hot for half an hour',
    thingId: thing,
    measurement: 'temp',
    condition: { op: 'GT', value: 25, for: '30m', clearValue: 22 },
  };
  await ok(stack.url, CREATE, { input }, owner.accessToken);
  // a day of readings every 5 minutes: a daily swing with a 4-hour one on top (three warm spells)
  const end = Math.floor(Date.now() / 300_000) * 300_000;
  const start = end - 24 * 3_600_000;
  for (let t = start; t < end; t += 300_000) {
    const hour = (t - start) / 3_600_000;
    const v = 22 + 3 * Math.sin((hour / 24) * 2 * Math.PI) + 4 * Math.sin((hour / 4) * 2 * Math.PI);
    await publishReading(stack.nc, { tenantId: owner.user.tenant.id, channelId, thingId: thing }, [
      { n: 'temp', v: Math.round(v * 10) / 10, t: t / 1000 },
    ]);
  }
  type Live = {
    alerts: { totalCount: number; nodes: { id: string; raisedAt: string; resolvedAt: string | null }[] };
  };
  const LIVE = `{ alerts(thingId: "${thing}", first: 100) { totalCount nodes { id raisedAt resolvedAt } } }`;
  const { rules } = await ok<{ rules: { nodes: { id: string }[] } }>(
    stack.url,
    `{ rules(thingId: "${thing}") { nodes { id } } }`,
    {},
    owner.accessToken,
  );
  // the live rule has evaluated the last reading once the thing's watermark is the last reading's
  await waitFor(
    async () => {
      const { rows } = await stack.pool.query<{ t: number }>(
        `SELECT last_time AS t FROM rule_readings WHERE thing_id = $1 AND name = 'temp'`,
        [thing],
      );
      return Number(rows[0]?.t) === end - 300_000;
    },
    { what: 'the live rule caught up', timeoutMs: 30_000 },
  );
  await waitFor(async () => (await stack.pool.query('SELECT 1 FROM rule_outbox')).rowCount === 0, {
    what: 'published',
  });
  // the backtest is a job: started, then polled until it is done
  type Job = {
    status: string;
    progress: number;
    error: string | null;
    result: {
      readings: number;
      raised: number;
      alerts: { alertId: string; raisedAt: string; resolvedAt: string | null }[];
    } | null;
  };
  const START = `mutation($input: CreateRuleInput!, $from: DateTime!, $to: DateTime!, $rule: ID) {
    backtestRule(input: $input, from: $from, to: $to, ruleId: $rule) { id status }
  }`;
  const startBacktest = async (from: number, to: number) =>
    (
      await ok<{ backtestRule: { id: string; status: string } }>(
        stack.url,
        START,
        {
          input,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          rule: rules.nodes[0]!.id,
        },
        owner.accessToken,
      )
    ).backtestRule;
  const backtest = async (from: number, to: number) => {
    const backtestRule = await startBacktest(from, to);
    return waitFor(
      async () => {
        const { backtestJob } = await ok<{ backtestJob: Job }>(
          stack.url,
          `query($id: ID!) {
            backtestJob(id: $id) { status progress error result { readings raised alerts { alertId raisedAt resolvedAt } } }
          }`,
          { id: backtestRule.id },
          owner.accessToken,
        );
        return backtestJob.status !== 'QUEUED' && backtestJob.status !== 'RUNNING' && backtestJob;
      },
      { what: 'the backtest job ended', timeoutMs: 30_000 },
    );
  };
  // the range is the log's time: the readings were logged just now (a backfill), so it runs to now
  const job = await backtest(start, Date.now());
  assert.equal(job.status, 'DONE', job.error ?? undefined);
  assert.equal(job.progress, 1);
  const result = job.result!;
  assert.equal(result.readings, 288);
  assert.equal(result.alerts.length, 3, 'three warm spells of half an hour or more');
  assert.equal(result.raised, 3);
  const key = (a: { raisedAt: string; resolvedAt: string | null }) => `${a.raisedAt}→${a.resolvedAt}`;
  const expected = JSON.stringify(result.alerts.map((a) => [a.alertId, key(a)]));
  let seen = '';
  await waitFor(
    async () => {
      const { alerts } = await ok<Live>(stack.url, LIVE, {}, owner.accessToken);
      seen = JSON.stringify([...alerts.nodes].reverse().map((a) => [a.id, key(a)]));
      return seen === expected;
    },
    { what: 'the live alerts to be the backtest’s', timeoutMs: 10_000 },
  ).catch(() => assert.equal(seen, expected, 'the same alerts, with the same ids and times'));
  // a range that ended before they were logged holds none of them (followed over the
  // subscription this time: it ends with the job)
  const { id } = await startBacktest(start, start + 12 * 3_600_000);
  const followed = await subscribeSse(
    stack.url,
    'subscription($id: ID!) { backtestJob(id: $id) { status progress result { readings } } }',
    { id },
    owner.accessToken,
    AbortSignal.timeout(30_000),
  );
  assert.deepEqual(followed.errors, []);
  assert.deepEqual((followed.data?.at(-1) as { backtestJob: unknown } | undefined)?.backtestJob, {
    status: 'DONE',
    progress: 1,
    result: { readings: 0 },
  });
  // a range of more than 31 days, or one that ends before it starts, is refused naming `to`
  for (const [from, to] of [
    [end - 32 * 86_400_000, end],
    [end, start],
  ] as const) {
    const res = await gql(
      stack.url,
      START,
      { input, from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      owner.accessToken,
    );
    assert.equal(res.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED', JSON.stringify(res.errors));
    assert.equal(res.errors?.[0]?.extensions?.field, 'to', JSON.stringify(res.errors));
  }
});

test('a rule scoped by thingMetadata is kept and shown, and raises for the matching things only', async () => {
  const thing = async (name: string, metadata: Record<string, unknown>) =>
    (
      await ok<{ createThing: { thing: { id: string } } }>(
        stack.url,
        'mutation($input: CreateThingInput!) { createThing(input: $input) { thing { id } } }',
        { input: { name, metadata } },
        owner.accessToken,
      )
    ).createThing.thing.id;
  const inZone = await thing('lamp-1', { zone: 'greenhouse-1', row: 3 });
  const elsewhere = await thing('lamp-2', { zone: 'greenhouse-2', row: 3 });
  const SCOPED = `mutation($input: CreateRuleInput!) { createRule(input: $input) { id channelId thingId thingMetadata } }`;
  const input = {
    name: 'greenhouse 1 too bright',
    channelId,
    thingMetadata: { zone: 'greenhouse-1' },
    measurement: 'lux',
    condition: { op: 'GT', value: 1000 },
  };
  const { createRule } = await ok<{
    createRule: { id: string; channelId: string; thingId: null; thingMetadata: unknown };
  }>(stack.url, SCOPED, { input }, owner.accessToken);
  assert.deepEqual(createRule, {
    id: createRule.id,
    channelId,
    thingId: null,
    thingMetadata: { zone: 'greenhouse-1' },
  });
  // as docs/rules.md writes it: an object literal
  const literal = await ok<{ createRule: { thingMetadata: unknown } }>(
    stack.url,
    `mutation { createRule(input: { name: "greenhouse 1 too hot", thingMetadata: { zone: "greenhouse-1" },
      measurement: "temp", condition: { op: GT, value: 30, for: "5m" }, severity: MAJOR }) { thingMetadata } }`,
    {},
    owner.accessToken,
  );
  assert.deepEqual(literal.createRule.thingMetadata, { zone: 'greenhouse-1' });
  // the registry's metadata filter lists the things such a rule watches
  const { things } = await ok<{ things: { nodes: { id: string }[] } }>(
    stack.url,
    '{ things(filter: { metadata: { zone: "greenhouse-1" } }) { nodes { id } } }',
    {},
    owner.accessToken,
  );
  assert.deepEqual(
    things.nodes.map((t) => t.id),
    [inZone],
  );
  for (const [bad, message] of [
    [{ ...input, channelId: undefined, thingId: inZone }, /cannot be given with thingId/],
    [{ ...input, thingMetadata: { zone: ['greenhouse-1'] } }, /numbers, booleans or null/],
    [{ ...input, thingMetadata: {} }, /1 to 16 keys/],
  ] as const) {
    const res = await gql(stack.url, SCOPED, { input: bad }, owner.accessToken);
    assert.equal(res.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED', JSON.stringify(res.errors));
    assert.equal(res.errors?.[0]?.extensions?.field, 'input.thingMetadata');
    assert.match(res.errors?.[0]?.message ?? '', message);
  }

  // the thing outside the zone speaks first: once the other's alert is there, its reading was evaluated
  const tenantId = owner.user.tenant.id;
  await publishReading(stack.nc, { tenantId, channelId, thingId: elsewhere }, [{ n: 'lux', v: 2000 }]);
  await publishReading(stack.nc, { tenantId, channelId, thingId: inZone }, [{ n: 'lux', v: 2000 }]);
  type Alerts = { alerts: { nodes: { thingId: string; rule: { id: string } }[] } };
  const ALERTS = '{ alerts(first: 50) { nodes { thingId rule { id } } } }';
  const ofRule = async () =>
    (await ok<Alerts>(stack.url, ALERTS, {}, owner.accessToken)).alerts.nodes.filter(
      (a) => a.rule.id === createRule.id,
    );
  await waitFor(async () => (await ofRule()).length > 0, { what: 'the alert of the thing in the zone' });
  assert.deepEqual(
    (await ofRule()).map((a) => a.thingId),
    [inZone],
  );
});

test("an edit that leaves a webhook's secret out keeps it; null removes it", async () => {
  const url = 'https://hooks.example.com/telly';
  const input = (webhook: Record<string, unknown>) => ({
    name: 'signed hook',
    thingId,
    measurement: 'temp',
    condition: { op: 'GT', value: 40 },
    actions: [{ email: { to: ['ops@example.com'] } }, { webhook }],
  });
  const { createRule } = await ok<{ createRule: { id: string } }>(
    stack.url,
    CREATE,
    { input: input({ url, secret: 'a-secret-of-twenty-chars' }) },
    owner.accessToken,
  );
  const UPDATE = `mutation($id: ID!, $input: CreateRuleInput!) { updateRule(id: $id, input: $input) { actions } }`;
  const signed = async (webhook: Record<string, unknown>) => {
    const { updateRule } = await ok<{ updateRule: { actions: { kind: string; secret?: boolean }[] } }>(
      stack.url,
      UPDATE,
      { id: createRule.id, input: input(webhook) },
      owner.accessToken,
    );
    return updateRule.actions.find((a) => a.kind === 'webhook')?.secret;
  };
  assert.equal(await signed({ url }), true, 'left out: the secret is kept');
  const { rows } = await stack.pool.query<{ secret: string }>(
    'SELECT secret FROM rule_webhook_secrets WHERE rule_id = $1 AND action = 1',
    [createRule.id],
  );
  assert.equal(rows[0]?.secret, 'a-secret-of-twenty-chars');
  assert.equal(
    await signed({ url: 'https://elsewhere.example.com/x' }),
    false,
    'another URL: not its secret',
  );
  assert.equal(await signed({ url, secret: null }), false, 'null: removed');
});
