import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSubject } from '../subjects/parse.ts';
import { STREAMS } from '../subjects/streams.ts';
import { subjectMatches } from '../subjects/test-match.ts';
import { EVENT_TYPES, type EventType } from './catalog.ts';
import { createEvent } from './create.ts';
import { subjectOf } from './subject.ts';
import { CHANNEL, EVENT_ID, NOW, SAMPLE_DATA, TENANT, THING, USER } from './test-samples.ts';

function event<T extends EventType>(type: T) {
  return createEvent(type, { tenantId: TENANT, data: SAMPLE_DATA[type] } as never, {
    id: EVENT_ID,
    now: NOW,
  });
}

describe('subjectOf', () => {
  it('puts every event on a valid subject of the right stream', () => {
    for (const type of EVENT_TYPES) {
      const subject = subjectOf(event(type));
      const parsed = parseSubject(subject);
      assert.equal(parsed.kind === 'dlq' ? undefined : parsed.tenant, TENANT, subject);
      const stream = {
        reg: STREAMS.REGISTRY,
        cmd: STREAMS.COMMANDS,
        evt: STREAMS.EVENTS,
        msg: null,
        dlq: null,
      }[parsed.kind];
      assert.ok(stream, `${type} → ${subject}`);
      assert.ok(stream.subjects.some((f) => subjectMatches(f, subject)));
    }
  });

  it('routes registry events to the entity they change', () => {
    assert.equal(subjectOf(event('tenant.created')), `reg.${TENANT}.tenant.${TENANT}`);
    assert.equal(subjectOf(event('user.role-granted')), `reg.${TENANT}.user.${USER}`);
    assert.equal(subjectOf(event('thing.connected')), `reg.${TENANT}.thing.${THING}`);
    assert.equal(subjectOf(event('channel.deleted')), `reg.${TENANT}.channel.${CHANNEL}`);
    assert.equal(subjectOf(event('bootstrap.configured')), `reg.${TENANT}.bootstrap.${THING}`);
  });

  it('routes commands and derived facts', () => {
    assert.equal(subjectOf(event('command.requested')), `cmd.${TENANT}.${THING}`);
    assert.equal(subjectOf(event('command.succeeded')), `evt.${TENANT}.command.${THING}`);
    assert.equal(subjectOf(event('alert.raised')), `evt.${TENANT}.alert.${THING}`);
    assert.equal(subjectOf(event('inference.completed')), `evt.${TENANT}.inference.${THING}`);
    assert.equal(subjectOf(event('thing.offline')), `evt.${TENANT}.lifecycle.${THING}`);
    const anonymous = createEvent(
      'message.rejected',
      { tenantId: TENANT, data: { protocol: 'kafka', reason: 'invalid-topic', detail: 'x' } },
      { id: EVENT_ID, now: NOW },
    );
    assert.equal(subjectOf(anonymous), `evt.${TENANT}.rejected._`);
  });
});
