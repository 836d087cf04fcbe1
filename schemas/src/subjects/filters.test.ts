import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { messageSubject } from './build.ts';
import { isSubjectError } from './errors.ts';
import { commandsFilter, eventFilter, messageFilters } from './filters.ts';
import { subjectMatches } from './test-match.ts';
import type { MessageSubject } from './types.ts';

const matchesAny = (filters: readonly string[], subject: string) =>
  filters.some((f) => subjectMatches(f, subject));

describe('subjectMatches', () => {
  it('follows NATS wildcard rules', () => {
    assert.ok(subjectMatches('a.*.c', 'a.b.c'));
    assert.ok(!subjectMatches('a.*.c', 'a.b.c.d'));
    assert.ok(subjectMatches('a.>', 'a.b'));
    assert.ok(subjectMatches('a.>', 'a.b.c'));
    assert.ok(!subjectMatches('a.>', 'a'), '> needs at least one token');
    assert.ok(!subjectMatches('a.b', 'a.b.c'));
    assert.ok(!subjectMatches('a.b.c', 'a.b'));
  });
});

describe('message filters', () => {
  const withSub = 'msg.t.c.th.a.b';
  const noSub = 'msg.t.c.th';

  it('tenant and channel filters are single tail filters', () => {
    assert.deepEqual(messageFilters({ tenant: 't' }), ['msg.t.>']);
    assert.deepEqual(messageFilters({ tenant: 't', channel: 'c' }), ['msg.t.c.>']);
    assert.deepEqual(messageFilters(), ['msg.>']);
    for (const s of [withSub, noSub]) {
      assert.ok(matchesAny(messageFilters({ tenant: 't' }), s));
      assert.ok(matchesAny(messageFilters({ tenant: 't', channel: 'c' }), s));
    }
  });

  it('a thing needs two filters, because a message without subtopic has exactly four tokens', () => {
    const filters = messageFilters({ tenant: 't', thing: 'th' });
    assert.deepEqual(filters, ['msg.t.*.th', 'msg.t.*.th.>']);
    assert.ok(matchesAny(filters, noSub));
    assert.ok(matchesAny(filters, withSub));
    assert.ok(!subjectMatches('msg.t.*.th.>', noSub), 'the tail filter alone would miss it');
    assert.ok(!matchesAny(filters, 'msg.t.c.other'));
    assert.deepEqual(messageFilters({ tenant: 't', channel: 'c', thing: 'th' }), [
      'msg.t.c.th',
      'msg.t.c.th.>',
    ]);
  });

  it('subtopic [] selects only messages without subtopic', () => {
    assert.deepEqual(messageFilters({ tenant: 't', subtopic: [] }), ['msg.t.*.*']);
  });

  it('selects exactly the messages the options describe', () => {
    const tok = fc.constantFrom('x', 'y');
    const msg = fc.record({
      kind: fc.constant('msg' as const),
      tenant: tok,
      channel: tok,
      thing: tok,
      subtopic: fc.array(tok, { maxLength: 3 }),
    });
    const opt = fc.option(tok, { nil: undefined });
    const subFilter = fc.option(fc.array(fc.constantFrom('x', 'y', '*'), { maxLength: 3 }), {
      nil: undefined,
    });
    fc.assert(
      fc.property(
        msg,
        opt,
        opt,
        opt,
        subFilter,
        fc.boolean(),
        (m: MessageSubject, tenant, channel, thing, sub, tail) => {
          const subtopic = sub === undefined ? undefined : tail ? [...sub, '>'] : sub;
          const options = { tenant, channel, thing, subtopic };
          const expected =
            (tenant === undefined || tenant === m.tenant) &&
            (channel === undefined || channel === m.channel) &&
            (thing === undefined || thing === m.thing) &&
            (subtopic === undefined || subtopicMatches(subtopic, m.subtopic));
          assert.equal(matchesAny(messageFilters(options), messageSubject(m)), expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("rejects '>' before the end of a subtopic filter and bad tokens", () => {
    assert.throws(
      () => messageFilters({ subtopic: ['>', 'a'] }),
      (e) => isSubjectError(e, 'INVALID_FILTER'),
    );
    assert.throws(
      () => messageFilters({ tenant: 'a b' }),
      (e) => isSubjectError(e, 'TOKEN_CONTAINS_WHITESPACE'),
    );
  });
});

describe('other filters', () => {
  it('command and event filters', () => {
    assert.equal(commandsFilter('t'), 'cmd.t.*');
    assert.equal(commandsFilter(), 'cmd.*.*');
    assert.equal(eventFilter({ type: 'alert' }), 'evt.*.alert.*');
    assert.equal(eventFilter({ tenant: 't', thing: 'x' }), 'evt.t.*.x');
  });
});

function subtopicMatches(filter: readonly string[], subtopic: readonly string[]): boolean {
  for (let i = 0; i < filter.length; i++) {
    if (filter[i] === '>') return subtopic.length > i;
    if (i >= subtopic.length) return false;
    if (filter[i] !== '*' && filter[i] !== subtopic[i]) return false;
  }
  return filter.length === subtopic.length;
}
