import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { v7 } from 'uuid';
import { EVENT_TYPES } from './catalog.ts';
import { encodeEvent } from './codec.ts';
import { createEvent } from './create.ts';
import { isEventValidationError } from './errors.ts';
import { EVENT_ID, NOW, SAMPLE_DATA, TENANT, THING, USER } from './test-samples.ts';

describe('createEvent', () => {
  it('builds the envelope from what it is given', () => {
    const event = createEvent(
      'thing.enabled',
      { tenantId: TENANT, data: { thingId: THING }, actor: USER },
      { id: EVENT_ID, now: NOW },
    );
    assert.deepEqual(event, {
      type: 'thing.enabled',
      version: 1,
      id: EVENT_ID,
      time: '2025-01-02T03:04:05.678Z',
      tenantId: TENANT,
      actor: USER,
      data: { thingId: THING },
    });
    assert.deepEqual(Object.keys(event), ['type', 'version', 'id', 'time', 'tenantId', 'actor', 'data']);
  });

  it('omits actor when none is given', () => {
    const event = createEvent(
      'thing.enabled',
      { tenantId: TENANT, data: { thingId: THING } },
      { id: EVENT_ID, now: NOW },
    );
    assert.ok(!('actor' in event));
  });

  it('is deterministic given id and now, for every type (Date or ms alike)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.integer({ min: 0, max: 253402300799999 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (type, ms, seed) => {
          const id = v7({ msecs: ms, random: new Uint8Array(16).fill(seed % 256) });
          const input = { tenantId: TENANT, data: SAMPLE_DATA[type], actor: 'system' } as never;
          const a = createEvent(type, input, { id, now: ms });
          const b = createEvent(type, input, { id, now: new Date(ms) });
          assert.deepEqual(a, b);
          assert.deepEqual(encodeEvent(a), encodeEvent(b));
          assert.equal(Date.parse(a.time), ms);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('validates what it creates', () => {
    assert.throws(
      () =>
        createEvent(
          'thing.enabled',
          { tenantId: TENANT, data: { thingId: 'nope' } },
          { id: EVENT_ID, now: NOW },
        ),
      (e) => isEventValidationError(e, 'INVALID_EVENT') && e.path === '/data/thingId',
    );
    assert.throws(
      () =>
        createEvent(
          'thing.enabled',
          { tenantId: TENANT, data: { thingId: THING } },
          { id: 'not-a-uuid', now: NOW },
        ),
      (e) => isEventValidationError(e, 'INVALID_EVENT') && e.path === '/id',
    );
    for (const now of [Number.NaN, new Date('nope'), -1, 1e20]) {
      assert.throws(
        () =>
          createEvent('thing.enabled', { tenantId: TENANT, data: { thingId: THING } }, { id: EVENT_ID, now }),
        (e) => isEventValidationError(e, 'INVALID_EVENT') && e.path === '/time',
      );
    }
  });
});
