import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPES } from './catalog.ts';
import {
  decodeEvent,
  EVENT_TYPE_HEADER,
  encodeEvent,
  type StoredEvent,
  UPCASTERS,
  type UpcasterTable,
  upcastEvent,
} from './codec.ts';
import { createEvent } from './create.ts';
import { isEventValidationError } from './errors.ts';
import { EVENT_ID, NOW, SAMPLE_DATA, TENANT } from './test-samples.ts';

const tenantCreated = createEvent(
  'tenant.created',
  { tenantId: TENANT, data: { name: 'Acme' } },
  { id: EVENT_ID, now: NOW },
);

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

describe('encodeEvent / decodeEvent', () => {
  it('round-trips every event type', () => {
    for (const type of EVENT_TYPES) {
      const event = createEvent(type, { tenantId: TENANT, data: SAMPLE_DATA[type] } as never, {
        id: EVENT_ID,
        now: NOW,
      });
      const bytes = encodeEvent(event);
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(decodeEvent(bytes), event);
      assert.deepEqual(decodeEvent(new TextDecoder().decode(bytes)), event);
    }
  });

  it('refuses to encode an invalid event', () => {
    assert.throws(
      () => encodeEvent({ ...tenantCreated, data: { name: '' } }),
      (e) => isEventValidationError(e, 'INVALID_EVENT') && e.path === '/data/name',
    );
  });

  it('rejects bytes that are not a valid event', () => {
    assert.throws(
      () => decodeEvent('{"type":'),
      (e) => isEventValidationError(e, 'INVALID_JSON'),
    );
    assert.throws(
      () => decodeEvent(new Uint8Array([0x7b, 0xff, 0x7d])),
      (e) => isEventValidationError(e, 'INVALID_JSON'),
    );
    assert.throws(
      () => decodeEvent('[]'),
      (e) => isEventValidationError(e, 'NOT_AN_EVENT'),
    );
    assert.throws(
      () => decodeEvent(json({ ...tenantCreated, version: 2 })),
      (e) => isEventValidationError(e, 'UNSUPPORTED_VERSION') && /knows up to v1/.test(e.message),
    );
  });

  it('names the header that carries the event type', () => {
    assert.equal(EVENT_TYPE_HEADER, 'Telly-Event');
  });
});

describe('upcasting', () => {
  // A fake history: tenant.created v0 called the name `title`.
  const v0 = { ...tenantCreated, version: 0, data: { title: 'Acme' } };
  const upcasters: UpcasterTable = {
    'tenant.created': {
      0: (event: StoredEvent): StoredEvent => {
        const { title } = event.data as { title: string };
        return { ...event, version: 1, data: { name: title } };
      },
    },
  };

  it('has no upcasters while every event is at v1', () => {
    assert.deepEqual(Object.keys(UPCASTERS), []);
  });

  it('decodes an older version through the upcaster table', () => {
    assert.deepEqual(decodeEvent(json(v0), { upcasters }), tenantCreated);
  });

  it('without an upcaster an old version is unsupported', () => {
    assert.throws(
      () => decodeEvent(json(v0)),
      (e) =>
        isEventValidationError(e, 'UNSUPPORTED_VERSION') && /no upcaster brings v0 to v1/.test(e.message),
    );
  });

  it('validates what the upcaster produces', () => {
    const broken: UpcasterTable = { 'tenant.created': { 0: (e) => ({ ...e, version: 1 }) } };
    assert.throws(
      () => decodeEvent(json(v0), { upcasters: broken }),
      (e) => isEventValidationError(e, 'INVALID_EVENT') && e.path === '/data/name',
    );
  });

  it('chains upcasters and supports renamed types', () => {
    const renamed = { ...v0, type: 'org.created', version: -1 };
    const chain: UpcasterTable = {
      'org.created': { [-1]: (e) => ({ ...e, type: 'tenant.created', version: 0 }) },
      ...upcasters,
    };
    assert.deepEqual(decodeEvent(json(renamed), { upcasters: chain }), tenantCreated);
  });

  it('reports failing or non-terminating upcasters', () => {
    const throwing: UpcasterTable = {
      'tenant.created': {
        0: () => {
          throw new Error('boom');
        },
      },
    };
    assert.throws(
      () => upcastEvent(v0, { upcasters: throwing }),
      (e) => isEventValidationError(e, 'UPCAST_FAILED') && e.cause instanceof Error,
    );
    const looping: UpcasterTable = { 'tenant.created': { 0: (e) => e } };
    assert.throws(
      () => upcastEvent(v0, { upcasters: looping }),
      (e) => isEventValidationError(e, 'UPCAST_FAILED'),
    );
  });

  it('ignores prototype keys in the table lookup', () => {
    for (const type of ['constructor', 'toString', '__proto__']) {
      const value = { type, version: 0 };
      assert.equal(upcastEvent(value, { upcasters: {} }), value);
    }
  });
});
