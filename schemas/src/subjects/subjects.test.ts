import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  authRevokedSubject,
  commandSubject,
  dlqSubject,
  eventSubject,
  formatSubject,
  messageSubject,
  registrySubject,
} from './build.ts';
import { isSubjectError, SubjectError, type SubjectErrorCode } from './errors.ts';
import { authRevokedFilter } from './filters.ts';
import { parseMessageSubject, parseSubject } from './parse.ts';
import { STREAMS } from './streams.ts';
import { subjectMatches } from './test-match.ts';
import { MAX_SUBJECT_LENGTH, MAX_SUBTOPIC_DEPTH, MAX_TOKEN_LENGTH } from './tokens.ts';
import { EVENT_SUBJECT_TYPES, REGISTRY_KINDS, type TellySubject } from './types.ts';

// Valid tokens: the safe alphabet, bounded; UUIDs as the common case.
const token = fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9_~:@=-]{1,40}$/));
const thingToken = token.filter((t) => t !== '_');
const subtopic = fc.array(fc.stringMatching(/^[A-Za-z0-9_~:@=-]{1,12}$/), { maxLength: MAX_SUBTOPIC_DEPTH });

const anySubject: fc.Arbitrary<TellySubject> = fc.oneof(
  fc.record({ kind: fc.constant('msg' as const), tenant: token, channel: token, thing: token, subtopic }),
  fc.record({
    kind: fc.constant('reg' as const),
    tenant: token,
    entity: fc.constantFrom(...REGISTRY_KINDS),
    id: token,
  }),
  fc.record({ kind: fc.constant('cmd' as const), tenant: token, thing: token }),
  fc.record({
    kind: fc.constant('evt' as const),
    tenant: token,
    type: fc.constantFrom(...EVENT_SUBJECT_TYPES),
    thing: fc.option(thingToken, { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('dlq' as const), processor: token }),
);

function throwsCode(fn: () => unknown, code: SubjectErrorCode, messageIncludes?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isSubjectError(err), `expected SubjectError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (messageIncludes !== undefined) assert.ok(err.message.includes(messageIncludes), err.message);
    return true;
  });
}

describe('subject builders and parser', () => {
  it('build → parse → build is the identity for every kind', () => {
    fc.assert(
      fc.property(anySubject, (parsed) => {
        const subject = formatSubject(parsed);
        assert.deepEqual(parseSubject(subject), { ...parsed }); // fc.record objects have a null prototype
        assert.equal(formatSubject(parseSubject(subject)), subject);
      }),
      { numRuns: 500 },
    );
  });

  it('every built subject is captured by its stream', () => {
    const streamOf = {
      msg: STREAMS.MESSAGES,
      reg: STREAMS.REGISTRY,
      cmd: STREAMS.COMMANDS,
      evt: STREAMS.EVENTS,
      dlq: STREAMS.DLQ,
    };
    fc.assert(
      fc.property(anySubject, (parsed) => {
        const subject = formatSubject(parsed);
        assert.ok(streamOf[parsed.kind].subjects.some((f) => subjectMatches(f, subject)));
        const others = Object.values(STREAMS).filter((s) => s !== streamOf[parsed.kind]);
        assert.ok(!others.some((s) => s.subjects.some((f) => subjectMatches(f, subject))));
      }),
    );
  });

  it('builds the documented shapes', () => {
    assert.equal(messageSubject({ tenant: 't', channel: 'c', thing: 'th' }), 'msg.t.c.th');
    assert.equal(
      messageSubject({ tenant: 't', channel: 'c', thing: 'th', subtopic: ['a', 'b'] }),
      'msg.t.c.th.a.b',
    );
    assert.equal(registrySubject({ tenant: 't', entity: 'thing', id: 'x' }), 'reg.t.thing.x');
    assert.equal(commandSubject({ tenant: 't', thing: 'x' }), 'cmd.t.x');
    assert.equal(eventSubject({ tenant: 't', type: 'alert', thing: 'x' }), 'evt.t.alert.x');
    assert.equal(eventSubject({ tenant: 't', type: 'rejected' }), 'evt.t.rejected._');
    assert.equal(dlqSubject('telemetry-pg'), 'dlq.telemetry-pg');
  });

  it('parses a message subject with and without subtopic', () => {
    assert.deepEqual(parseMessageSubject('msg.t.c.th'), {
      kind: 'msg',
      tenant: 't',
      channel: 'c',
      thing: 'th',
      subtopic: [],
    });
    assert.deepEqual(parseSubject('msg.t.c.th.a.b'), {
      kind: 'msg',
      tenant: 't',
      channel: 'c',
      thing: 'th',
      subtopic: ['a', 'b'],
    });
    assert.deepEqual(parseSubject('evt.t.rejected._'), {
      kind: 'evt',
      tenant: 't',
      type: 'rejected',
      thing: undefined,
    });
  });
});

describe('token validation', () => {
  const bad: [string, string, SubjectErrorCode][] = [
    ['empty', '', 'EMPTY_TOKEN'],
    ['dot', 'a.b', 'TOKEN_CONTAINS_DOT'],
    ['lone dot', '.', 'TOKEN_CONTAINS_DOT'],
    ['star', '*', 'TOKEN_CONTAINS_WILDCARD'],
    ['gt', '>', 'TOKEN_CONTAINS_WILDCARD'],
    ['embedded star', 'a*', 'TOKEN_CONTAINS_WILDCARD'],
    ['space', 'a b', 'TOKEN_CONTAINS_WHITESPACE'],
    ['tab', '\t', 'TOKEN_CONTAINS_WHITESPACE'],
    ['newline', 'a\nb', 'TOKEN_CONTAINS_WHITESPACE'],
    ['no-break space', 'a\u00a0b', 'TOKEN_CONTAINS_WHITESPACE'],
    ['NUL', 'a\u0000', 'TOKEN_CONTAINS_CONTROL_CHAR'],
    ['DEL', '\u007f', 'TOKEN_CONTAINS_CONTROL_CHAR'],
    ['C1', 'a\u0085'.replace('\u0085', '\u0081'), 'TOKEN_CONTAINS_CONTROL_CHAR'],
    ['mqtt wildcard +', 'a+', 'TOKEN_INVALID_CHAR'],
    ['mqtt wildcard #', '#', 'TOKEN_INVALID_CHAR'],
    ['slash', 'a/b', 'TOKEN_INVALID_CHAR'],
    ['dollar', '$SYS', 'TOKEN_INVALID_CHAR'],
    ['non-ascii', 'température', 'TOKEN_INVALID_CHAR'],
    ['too long', 'a'.repeat(MAX_TOKEN_LENGTH + 1), 'TOKEN_TOO_LONG'],
  ];

  for (const [name, value, code] of bad) {
    it(`rejects a ${name} token in every position with ${code}`, () => {
      throwsCode(() => messageSubject({ tenant: value, channel: 'c', thing: 'th' }), code, 'tenant');
      throwsCode(() => messageSubject({ tenant: 't', channel: value, thing: 'th' }), code, 'channel');
      throwsCode(() => messageSubject({ tenant: 't', channel: 'c', thing: value }), code, 'thing');
      throwsCode(
        () => messageSubject({ tenant: 't', channel: 'c', thing: 'th', subtopic: ['a', value] }),
        code,
        'subtopic[1]',
      );
      throwsCode(() => registrySubject({ tenant: 't', entity: 'user', id: value }), code, 'id');
      throwsCode(() => commandSubject({ tenant: 't', thing: value }), code);
      throwsCode(() => eventSubject({ tenant: value, type: 'alert' }), code);
      throwsCode(() => dlqSubject(value), code, 'processor');
      // Parsing: a token that cannot be a token never comes back as an id. (Dots split tokens,
      // so they surface as another error; the point is that parsing fails.)
      if (!value.includes('.')) throwsCode(() => parseSubject(`cmd.t.${value}`), code);
    });
  }

  it('accepts exactly the longest token', () => {
    const long = 'a'.repeat(MAX_TOKEN_LENGTH);
    assert.equal(parseSubject(commandSubject({ tenant: long, thing: long })).kind, 'cmd');
  });

  it('rejects any token holding a separator or wildcard', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('.', '*', '>', ' '), fc.string(), (a, bad, b) => {
        assert.throws(() => commandSubject({ tenant: 't', thing: `${a}${bad}${b}` }), SubjectError);
      }),
    );
  });

  it('reserves _ as the thing of an event subject', () => {
    throwsCode(() => eventSubject({ tenant: 't', type: 'alert', thing: '_' }), 'RESERVED_TOKEN');
  });
});

describe('subject parse errors', () => {
  const cases: [string, SubjectErrorCode][] = [
    ['', 'UNKNOWN_PREFIX'],
    ['foo.t.c.th', 'UNKNOWN_PREFIX'],
    ['MSG.t.c.th', 'UNKNOWN_PREFIX'],
    ['msg.t.c', 'WRONG_TOKEN_COUNT'],
    ['msg.t.c.th.', 'EMPTY_TOKEN'],
    ['msg..c.th', 'EMPTY_TOKEN'],
    ['msg.t.*.th', 'TOKEN_CONTAINS_WILDCARD'],
    ['msg.t.c.th.>', 'TOKEN_CONTAINS_WILDCARD'],
    ['reg.t.thing', 'WRONG_TOKEN_COUNT'],
    ['reg.t.thing.x.y', 'WRONG_TOKEN_COUNT'],
    ['reg.t.gadget.x', 'UNKNOWN_REGISTRY_KIND'],
    ['cmd.t', 'WRONG_TOKEN_COUNT'],
    ['evt.t.weather.x', 'UNKNOWN_EVENT_SUBJECT_TYPE'],
    ['evt.t.alert', 'WRONG_TOKEN_COUNT'],
    ['dlq', 'WRONG_TOKEN_COUNT'],
    ['dlq.a.b', 'WRONG_TOKEN_COUNT'],
    [
      `msg.t.c.th.${Array.from({ length: MAX_SUBTOPIC_DEPTH + 1 }, () => 'a').join('.')}`,
      'SUBTOPIC_TOO_DEEP',
    ],
    [`msg.t.c.th.${Array.from({ length: 8 }, () => 'a'.repeat(40)).join('.')}`, 'SUBTOPIC_TOO_LONG'],
    [`dlq.${'a'.repeat(MAX_SUBJECT_LENGTH)}`, 'SUBJECT_TOO_LONG'],
  ];
  for (const [subject, code] of cases) {
    it(`${JSON.stringify(subject.length > 40 ? `${subject.slice(0, 40)}…` : subject)} → ${code}`, () => {
      throwsCode(() => parseSubject(subject), code);
    });
  }

  it('names the subject and the field in the error', () => {
    try {
      parseSubject('msg.t.c.a b');
      assert.fail('should throw');
    } catch (err) {
      assert.ok(isSubjectError(err, 'TOKEN_CONTAINS_WHITESPACE'));
      assert.equal(err.field, 'thing');
      assert.equal(err.token, 'a b');
      assert.equal(err.subject, 'msg.t.c.a b');
      assert.match(err.message, /thing "a b" in "msg\.t\.c\.a b" contains whitespace/);
    }
  });

  it('typed parsers reject other kinds', () => {
    throwsCode(() => parseMessageSubject('cmd.t.x'), 'UNEXPECTED_SUBJECT_KIND');
  });

  it('isSubjectError distinguishes codes and foreign errors', () => {
    const err = new SubjectError('EMPTY_TOKEN', 'x');
    assert.ok(isSubjectError(err));
    assert.ok(isSubjectError(err, 'EMPTY_TOKEN'));
    assert.ok(!isSubjectError(err, 'TOKEN_TOO_LONG'));
    assert.ok(!isSubjectError(new Error('x')));
    assert.equal(err.name, 'SubjectError');
  });
});

describe('revocation notices', () => {
  it('are telly.auth.revoked.<tenant>, matched by the filter of every tenant', () => {
    fc.assert(
      fc.property(token, (tenant) => {
        const subject = authRevokedSubject(tenant);
        assert.equal(subject, `telly.auth.revoked.${tenant}`);
        assert.ok(subjectMatches(authRevokedFilter(), subject));
      }),
    );
  });

  it('refuse a tenant that is not one token', () => {
    assert.throws(() => authRevokedSubject('a.b'), isSubjectError);
    assert.throws(() => authRevokedSubject('*'), isSubjectError);
  });
});
