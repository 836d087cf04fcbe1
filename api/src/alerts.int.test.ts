// Alerts closed by hand and the per-tenant rule cap over GraphQL, against real servers (NATS,
// Postgres, the rules processor): a cleared alert stays cleared while its condition holds and its
// rule raises again once the condition was false and true again; one rule past the cap is refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { gql, ok, publishReading, type Signed, type Stack, signup, startStack } from './testing/stack.ts';

/** A small cap, so the test creates a handful of rules rather than a thousand. */
const RULE_CAP = 3;

let stack: Stack;
let owner: Signed;

const CREATE = `mutation($input: CreateRuleInput!) { createRule(input: $input) { id } }`;

before(async () => {
  stack = await startStack({ maxRulesPerTenant: RULE_CAP });
  owner = await signup(stack.url, `alerts-${Date.now()}@example.com`, 'greenhouse');
});
after(() => stack?.stop());

async function thingOf(signed: Signed, name: string): Promise<{ thingId: string; channelId: string }> {
  const { createThing } = await ok<{ createThing: { thing: { id: string } } }>(
    stack.url,
    'mutation($name: String!) { createThing(input: { name: $name }) { thing { id } } }',
    { name },
    signed.accessToken,
  );
  const { createChannel } = await ok<{ createChannel: { id: string } }>(
    stack.url,
    'mutation($name: String!) { createChannel(input: { name: $name }) { id } }',
    { name: `${name}-channel` },
    signed.accessToken,
  );
  return { thingId: createThing.thing.id, channelId: createChannel.id };
}

test('an alert cleared by hand: CLEARED with its note, and raised anew once the condition was false and true again', async () => {
  const { thingId, channelId } = await thingOf(owner, 'boiler');
  await ok(
    stack.url,
    CREATE,
    { input: { name: 'boiler hot', thingId, measurement: 'temp', condition: { op: 'GT', value: 80 } } },
    owner.accessToken,
  );
  const at = { tenantId: owner.user.tenant.id, channelId, thingId };
  type Alerts = {
    alerts: {
      totalCount: number;
      nodes: {
        id: string;
        status: string;
        note: string | null;
        clearedAt: string | null;
        resolvedAt: string | null;
        value: number;
      }[];
    };
  };
  const ALERTS = `{ alerts(thingId: "${thingId}") { totalCount nodes { id status note clearedAt resolvedAt value } } }`;
  const alerts = async () => (await ok<Alerts>(stack.url, ALERTS, {}, owner.accessToken)).alerts;
  await publishReading(stack.nc, at, [{ n: 'temp', v: 85 }]);
  const alert = await waitFor(async () => (await alerts()).nodes[0], { what: 'the alert' });
  assert.equal(alert.status, 'OPEN');

  const CLEAR =
    'mutation($id: ID!, $note: String) { clearAlert(id: $id, note: $note) { id status note clearedAt } }';
  const { clearAlert } = await ok<{
    clearAlert: { id: string; status: string; note: string; clearedAt: string };
  }>(stack.url, CLEAR, { id: alert.id, note: 'sensor taped to the burner; moved it' }, owner.accessToken);
  assert.equal(clearAlert.id, alert.id);
  assert.equal(clearAlert.status, 'CLEARED');
  assert.equal(clearAlert.note, 'sensor taped to the burner; moved it');
  assert.ok(Date.now() - Date.parse(clearAlert.clearedAt) < 60_000, 'cleared just now');
  // a cleared alert is closed: clearing it again is refused, naming the alert
  const again = await gql(stack.url, CLEAR, { id: alert.id }, owner.accessToken);
  assert.equal(again.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED', JSON.stringify(again.errors));
  assert.equal(again.errors?.[0]?.extensions?.field, 'id');

  // still hot: no new alert for the same spell; cooled down, then hot again: a new one
  await publishReading(stack.nc, at, [{ n: 'temp', v: 86 }]);
  await publishReading(stack.nc, at, [{ n: 'temp', v: 60 }]);
  await publishReading(stack.nc, at, [{ n: 'temp', v: 90 }]);
  const { nodes } = await waitFor(
    async () => {
      const page = await alerts();
      return page.nodes.some((a) => a.status === 'OPEN') && page;
    },
    { what: 'raised again' },
  );
  // readings are evaluated and alerts projected in order: one raised by 86 would be here by now
  assert.deepEqual(
    nodes.map((a) => [a.status, a.value]),
    [
      ['OPEN', 90],
      ['CLEARED', 85],
    ],
  );
  assert.equal(nodes[1]!.note, 'sensor taped to the burner; moved it', 'the cleared alert keeps its note');
  assert.ok(nodes[1]!.resolvedAt, 'its spell ended when the condition was false');
});

test('one rule more than the per-tenant cap is refused with VALIDATION_FAILED naming the cap', async () => {
  const other = await signup(stack.url, `cap-${Date.now()}@example.com`, 'capped');
  const { thingId } = await thingOf(other, 'pump');
  const input = (i: number) => ({
    name: `rule ${i}`,
    thingId,
    measurement: 'pressure',
    condition: { op: 'LT', value: i },
  });
  for (let i = 0; i < RULE_CAP; i++) await ok(stack.url, CREATE, { input: input(i) }, other.accessToken);
  const res = await gql(stack.url, CREATE, { input: input(RULE_CAP) }, other.accessToken);
  assert.equal(res.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED', JSON.stringify(res.errors));
  assert.equal(res.errors?.[0]?.extensions?.field, 'input');
  assert.match(res.errors?.[0]?.message ?? '', new RegExp(`\\b${RULE_CAP} rules\\b`));
  const { rules } = await ok<{ rules: { totalCount: number } }>(
    stack.url,
    '{ rules { totalCount } }',
    {},
    other.accessToken,
  );
  assert.equal(rules.totalCount, RULE_CAP, 'nothing more was created');
  // the cap is per tenant: another tenant still creates rules
  const { thingId: mine } = await thingOf(owner, 'spare');
  await ok(stack.url, CREATE, { input: { ...input(0), thingId: mine } }, owner.accessToken);
});
