import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent } from '@telly/schemas';
import { inScope, metadataMatches, type ThingMetadataLookup } from './scope.ts';
import { type RuleInput, toRule, validateRule } from './validate.ts';

const TENANT = '0190f5b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b';
const OTHER_TENANT = '0190f5b2-3c4d-7e8f-9a0b-1c2d3e4f5a6c';
const THING = '0190f5b2-3c4d-7e8f-9a0b-000000000002';
const CHANNEL = '0190f5b2-3c4d-7e8f-9a0b-000000000003';
const RULE = '0190f5b2-3c4d-7e8f-9a0b-000000000004';

const base: RuleInput = { name: 'r', measurement: 'temp', condition: { op: 'gt', value: 30 } };

function refusal(input: RuleInput): { field: string | undefined; message: string } | undefined {
  try {
    validateRule(input);
    return undefined;
  } catch (err) {
    return { field: (err as { field?: string }).field, message: (err as Error).message };
  }
}

describe('validateRule: thingMetadata', () => {
  it('keeps a match of scalar values, with the tenant or a channel as scope', () => {
    const match = { zone: 'greenhouse-1', floor: 2, outdoor: false, retired: null };
    assert.deepEqual(validateRule({ ...base, thingMetadata: match }).thingMetadata, match);
    const def = validateRule({ ...base, channelId: CHANNEL, thingMetadata: { zone: 'a' } });
    assert.deepEqual([def.channelId, def.thingMetadata], [CHANNEL, { zone: 'a' }]);
    assert.equal(validateRule({ ...base, thingMetadata: null }).thingMetadata, undefined);
    // what it returns is what the event schema takes
    const event = createEvent(
      'rule.created',
      {
        tenantId: TENANT,
        data: { ruleId: RULE, ...validateRule({ ...base, thingMetadata: match }), enabled: true },
      },
      { id: RULE, now: 0 },
    );
    assert.deepEqual(event.data.thingMetadata, match);
  });

  it('refuses, naming thingMetadata, what it cannot match or bound', () => {
    const cases: [unknown, RegExp][] = [
      [['zone'], /JSON object/],
      ['zone=a', /JSON object/],
      [{}, /1 to 16 keys/],
      [Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])), /1 to 16 keys/],
      [{ '': 'a' }, /keys must be 1 to 128 characters/],
      [{ ['k'.repeat(129)]: 'a' }, /keys must be 1 to 128 characters/],
      [{ zone: 'z'.repeat(257) }, /at most 256 characters/],
      [{ zone: { building: 'a' } }, /numbers, booleans or null/],
      [{ tags: ['a'] }, /numbers, booleans or null/],
    ];
    for (const [thingMetadata, message] of cases) {
      const refused = refusal({ ...base, thingMetadata });
      assert.equal(refused?.field, 'thingMetadata', JSON.stringify(thingMetadata));
      assert.match(refused?.message ?? '', message);
    }
  });

  it('refuses it with a thingId: a single thing needs no metadata to match', () => {
    const refused = refusal({ ...base, thingId: THING, thingMetadata: { zone: 'a' } });
    assert.equal(refused?.field, 'thingMetadata');
    assert.match(refused?.message ?? '', /cannot be given with thingId/);
  });
});

describe('inScope', () => {
  const rule = (input: Partial<RuleInput>) => toRule(RULE, TENANT, true, validateRule({ ...base, ...input }));
  const metadata = new Map<string, Record<string, unknown>>([
    [THING, { zone: 'greenhouse-1', floor: 2, extra: { any: 'thing' } }],
  ]);
  const lookup: ThingMetadataLookup = (tenantId, thingId) =>
    tenantId === TENANT ? metadata.get(thingId) : undefined;
  const source = { tenantId: TENANT, thingId: THING, channelId: CHANNEL };

  it('matches a thing whose metadata has each key with exactly the value', () => {
    assert.ok(inScope(rule({ thingMetadata: { zone: 'greenhouse-1' } }), source, lookup));
    assert.ok(inScope(rule({ thingMetadata: { zone: 'greenhouse-1', floor: 2 } }), source, lookup));
    assert.ok(!inScope(rule({ thingMetadata: { zone: 'greenhouse-2' } }), source, lookup));
    assert.ok(!inScope(rule({ thingMetadata: { floor: '2' } }), source, lookup), 'a string is not a number');
    assert.ok(!inScope(rule({ thingMetadata: { zone: 'greenhouse-1', roof: null } }), source, lookup));
    assert.ok(
      !inScope(rule({ thingMetadata: { zone: 'greenhouse-1' } }), { ...source, thingId: CHANNEL }, lookup),
      'a thing without metadata (unknown, deleted) matches no metadata',
    );
  });

  it('combines with the channel, and never crosses tenants', () => {
    const onChannel = rule({ channelId: CHANNEL, thingMetadata: { zone: 'greenhouse-1' } });
    assert.ok(inScope(onChannel, source, lookup));
    assert.ok(!inScope(onChannel, { ...source, channelId: RULE }, lookup));
    const other = toRule(
      RULE,
      OTHER_TENANT,
      true,
      validateRule({ ...base, thingMetadata: { zone: 'greenhouse-1' } }),
    );
    assert.ok(!inScope(other, source, lookup));
    assert.ok(!inScope(other, { ...source, tenantId: OTHER_TENANT }, lookup));
  });

  it('is the plain scope for a rule without thingMetadata', () => {
    const none: ThingMetadataLookup = () => undefined;
    assert.ok(inScope(rule({}), source, none));
    assert.ok(inScope(rule({ thingId: THING }), source, none));
    assert.ok(!inScope(rule({ thingId: CHANNEL }), source, none));
    assert.ok(!inScope(rule({}), { ...source, tenantId: OTHER_TENANT }, none));
  });

  it('metadataMatches is containment of scalars, own keys only', () => {
    assert.ok(metadataMatches({ a: 1, b: 'x' }, { a: 1 }));
    assert.ok(!metadataMatches({}, { toString: 'x' }));
    assert.ok(!metadataMatches({ a: 1 }, { a: true }));
  });
});
