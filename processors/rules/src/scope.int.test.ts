// Rules scoped by things' metadata against real servers (nats-server, Postgres, the rules
// processor in its own process): the things' metadata comes from REGISTRY as the API appends it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { PgCheckpoint } from '@telly/runtime';
import { createEvent, type EventData, messageSubject } from '@telly/schemas';
import { v7 } from 'uuid';
import type { AlertStatus } from './queries.ts';
import { type RulesTestStack, startRulesTestStack } from './testing/rules-stack.ts';
import { RULES_THINGS } from './things-projection.ts';

let rules: RulesTestStack;
const tenantB = v7();
const KEY_HASH = `sha256:${'0'.repeat(64)}`;

before(async () => {
  rules = await startRulesTestStack('rules-scope-test');
  await rules.startChild();
});

after(async () => {
  await rules?.stop();
});

type ThingEvent = 'thing.created' | 'thing.updated' | 'thing.deleted';

/** Appends a thing's event as the API does; resolves once the rules processor projected it. */
async function registry<T extends ThingEvent>(type: T, tenantId: string, data: EventData<T>): Promise<void> {
  const event = createEvent(type, { tenantId, data } as never, { id: v7(), now: Date.now() });
  const { seq } = await rules.publisher.publishEvent(event);
  const things = new PgCheckpoint(rules.stack.pool, RULES_THINGS);
  await waitFor(async () => (await things.lastSeq()) >= seq, { what: `${type} projected` });
}

async function createThing(tenantId: string, metadata: Record<string, unknown>): Promise<string> {
  const thingId = v7();
  await registry('thing.created', tenantId, { thingId, name: 'soil', keyHash: KEY_HASH, metadata });
  return thingId;
}

/** A reading of `temp` from a thing of a tenant, as a bridge appends it (resolved, stamped now). */
async function reading(tenant: string, thing: string, v: number): Promise<void> {
  await rules.publisher.publish(
    messageSubject({ tenant, channel: rules.channel, thing }),
    JSON.stringify([{ n: 'temp', v, t: Date.now() / 1000 }]),
    {
      msgId: v7(),
      headers: { 'Content-Type': 'application/senml+json', 'Telly-Received': String(Date.now()) },
    },
  );
}

const alertsOf = async (ruleId: string, thingId: string) =>
  (await rules.queries.alerts(rules.tenant, { ruleId, thingId })).items;

const statusesOf = async (ruleId: string, thingId: string) =>
  (await alertsOf(ruleId, thingId)).map((a) => a.status);

/** The thing's alert under the rule once it is in `status` (readings are evaluated in log order). */
const alertOnceIs = (ruleId: string, thingId: string, status: AlertStatus) =>
  waitFor(async () => (await alertsOf(ruleId, thingId)).find((a) => a.status === status), {
    what: `an alert of ${thingId} ${status}`,
  });

test('a tenant rule with thingMetadata watches the things whose metadata matches, from each change on', async () => {
  const tenant = rules.tenant;
  const inZone = await createThing(tenant, { zone: 'greenhouse-1', floor: 2 });
  const elsewhere = await createThing(tenant, { zone: 'greenhouse-2' });
  // tenant B's thing has the same metadata: tenant A's rule never watches it
  const otherTenants = await createThing(tenantB, { zone: 'greenhouse-1' });
  const ruleId = await rules.createRule({
    name: 'greenhouse 1 too hot',
    thingMetadata: { zone: 'greenhouse-1' },
    measurement: 'temp',
    condition: { op: 'gt', value: 30 },
  });

  // the matching thing's reading last: once its alert is there, the others were evaluated
  await reading(tenant, elsewhere, 35);
  await reading(tenantB, otherTenants, 36);
  await reading(tenant, inZone, 31);
  const first = await alertOnceIs(ruleId, inZone, 'open');
  assert.equal(first.value, 31);
  assert.deepEqual(await alertsOf(ruleId, elsewhere), [], 'no alert for a thing whose metadata differs');
  assert.equal((await rules.queries.alerts(tenant, { ruleId })).totalCount, 1);
  assert.equal((await rules.queries.alerts(tenantB, {})).totalCount, 0, 'tenant B has no alert');

  // the other thing moves into the zone: it matches from its next reading
  await registry('thing.updated', tenant, { thingId: elsewhere, metadata: { zone: 'greenhouse-1' } });
  await reading(tenant, elsewhere, 33);
  assert.equal((await alertOnceIs(ruleId, elsewhere, 'open')).value, 33);

  // a rename leaves the metadata as it was: still watched, its alert resolves
  await registry('thing.updated', tenant, { thingId: inZone, name: 'soil-1' });
  await reading(tenant, inZone, 20);
  await alertOnceIs(ruleId, inZone, 'resolved');

  // the first leaves the zone: its readings are no longer evaluated
  await registry('thing.updated', tenant, { thingId: inZone, metadata: { zone: 'greenhouse-3' } });
  await reading(tenant, inZone, 40);
  await reading(tenant, elsewhere, 20);
  await alertOnceIs(ruleId, elsewhere, 'resolved');
  assert.deepEqual(await statusesOf(ruleId, inZone), ['resolved'], 'no alert once it left the zone');

  // a deleted thing matches nothing; a thing created after the rule matches at once
  await registry('thing.deleted', tenant, { thingId: elsewhere });
  await reading(tenant, elsewhere, 40);
  const late = await createThing(tenant, { zone: 'greenhouse-1', extra: { any: 'value' } });
  await reading(tenant, late, 50);
  await alertOnceIs(ruleId, late, 'open');
  assert.deepEqual(await statusesOf(ruleId, elsewhere), ['resolved'], 'no alert once it was deleted');
});

test('a thing that leaves the scope of a NO_DATA rule is not reported silent', async () => {
  const tenant = rules.tenant;
  const leaving = await createThing(tenant, { zone: 'cellar' });
  const staying = await createThing(tenant, { zone: 'cellar' });
  const ruleId = await rules.createRule({
    name: 'cellar sensor silent',
    thingMetadata: { zone: 'cellar' },
    measurement: 'temp',
    condition: { op: 'no_data', for: '2s' },
  });
  // the leaving thing's silence would be due first: once the other's is reported, it was decided
  await reading(tenant, leaving, 12);
  await reading(tenant, staying, 12);
  await registry('thing.updated', tenant, { thingId: leaving, metadata: { zone: 'attic' } });
  await alertOnceIs(ruleId, staying, 'open');
  assert.deepEqual(await statusesOf(ruleId, leaving), [], 'its timer was dropped, not fired');
});
