import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SchemaCompiler from 'typebox/schema';
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  type EventJsonSchema,
  type EventType,
  eventJsonSchemas,
  isEventOf,
  type TellyEvent,
} from './catalog.ts';
import { eventSchemaId } from './common.ts';
import { createEvent } from './create.ts';
import { isEventValidationError } from './errors.ts';
import { EVENT_ID, NOW, SAMPLE_DATA, TENANT, USER } from './test-samples.ts';
import { validateEvent } from './validate.ts';

function sample<T extends EventType>(type: T): Record<string, unknown> {
  // A fresh, plain (mutable) copy every time.
  return structuredClone(
    createEvent(type, { tenantId: TENANT, data: SAMPLE_DATA[type], actor: USER } as never, {
      id: EVENT_ID,
      now: NOW,
    }),
  );
}

function rejects(value: unknown, code: string, path: string): void {
  assert.throws(
    () => validateEvent(value),
    (err: unknown) => {
      assert.ok(isEventValidationError(err), String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(err.path, path, err.message);
      if (path !== '') assert.ok(err.message.includes(path), `message names ${path}: ${err.message}`);
      return true;
    },
  );
}

const jsonSchemas = new Map(eventJsonSchemas().map((s) => [s.title.split(' ')[0] as EventType, s]));
// Validators built from the published plain JSON (not the TypeBox objects), so the test checks
// what non-TypeScript consumers get.
const jsonValidators = new Map(
  [...jsonSchemas].map(([type, schema]) => [type, SchemaCompiler.Compile(schema as never)]),
);

describe('event catalog', () => {
  it('has a sample, a schema and a JSON Schema for every type', () => {
    assert.deepEqual(Object.keys(SAMPLE_DATA).sort(), [...EVENT_TYPES].sort());
    assert.equal(jsonSchemas.size, EVENT_TYPES.length);
    assert.ok(EVENT_TYPES.length >= 35);
  });

  for (const type of EVENT_TYPES) {
    describe(type, () => {
      it('validates its sample (TypeScript validator and published JSON Schema agree)', () => {
        const event = sample(type);
        assert.equal(validateEvent(event), event);
        assert.ok(jsonValidators.get(type)?.Check(event));
      });

      it('rejects each missing required field, naming its path', () => {
        const schema = jsonSchemas.get(type) as EventJsonSchema;
        const dataSchema = (schema.properties as Record<string, { required?: string[] }>).data;
        for (const key of schema.required as string[]) {
          const event = sample(type);
          delete event[key];
          rejects(event, key === 'type' ? 'NOT_AN_EVENT' : 'INVALID_EVENT', `/${key}`);
          assert.ok(!jsonValidators.get(type)?.Check(event));
        }
        for (const key of dataSchema?.required ?? []) {
          const event = sample(type);
          delete (event.data as Record<string, unknown>)[key];
          rejects(event, 'INVALID_EVENT', `/data/${key}`);
          assert.ok(!jsonValidators.get(type)?.Check(event), `JSON Schema also requires /data/${key}`);
        }
      });

      it('rejects each data field of the wrong type, naming its path', () => {
        for (const [key, value] of Object.entries(SAMPLE_DATA[type])) {
          if (key === 'payload' || key === 'result') continue; // any JSON value is right there
          const event = sample(type);
          const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
          (event.data as Record<string, unknown>)[key] = isObject ? 42 : { not: 'this' };
          rejects(event, 'INVALID_EVENT', `/data/${key}`);
          assert.ok(!jsonValidators.get(type)?.Check(event));
        }
      });

      it('rejects unknown properties in the envelope and in data', () => {
        const extraTop = { ...sample(type), extra: 1 };
        rejects(extraTop, 'INVALID_EVENT', '/extra');
        const extraData = sample(type);
        (extraData.data as Record<string, unknown>).key = 'plaintext-secret';
        rejects(extraData, 'INVALID_EVENT', '/data/key');
        assert.ok(!jsonValidators.get(type)?.Check(extraData));
      });

      it('has a JSON Schema with $id, draft 2020-12 and every key a valid sample holds', () => {
        const schema = jsonSchemas.get(type) as EventJsonSchema;
        assert.equal(schema.$id, eventSchemaId(type, 1));
        assert.equal(schema.$id, `https://telly.dev/schemas/events/${type}.v1.json`);
        assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
        assert.equal(schema.type, 'object');
        assert.equal(schema.additionalProperties, false);
        // Plain JSON: survives a round trip unchanged.
        assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
        const event = sample(type);
        const properties = schema.properties as Record<string, { required?: string[]; properties: object }>;
        for (const key of schema.required as string[]) assert.ok(key in event, `sample has required ${key}`);
        for (const key of properties.data?.required ?? [])
          assert.ok(key in (event.data as object), `sample has data.${key}`);
        for (const key of Object.keys(event)) assert.ok(key in properties, `schema declares ${key}`);
        for (const key of Object.keys(event.data as object))
          assert.ok(key in (properties.data?.properties ?? {}));
        assert.deepEqual(properties.version, { type: 'integer', const: 1 });
      });
    });
  }

  it('eventJsonSchemas returns fresh objects', () => {
    const [a] = eventJsonSchemas();
    (a as Record<string, unknown>).title = 'changed';
    assert.notEqual(eventJsonSchemas()[0]?.title, 'changed');
    assert.notEqual((EVENT_SCHEMAS['tenant.created'] as { title?: string }).title, 'changed');
  });
});

describe('validateEvent', () => {
  it('rejects non-events', () => {
    for (const value of [null, 42, 'thing.created', [], undefined]) rejects(value, 'NOT_AN_EVENT', '');
    rejects({ version: 1 }, 'NOT_AN_EVENT', '/type');
  });

  it('rejects unknown types and versions', () => {
    rejects({ ...sample('thing.created'), type: 'thing.exploded' }, 'UNKNOWN_EVENT_TYPE', '/type');
    rejects({ ...sample('thing.created'), type: 'constructor' }, 'UNKNOWN_EVENT_TYPE', '/type');
    rejects({ ...sample('thing.created'), version: 2 }, 'UNSUPPORTED_VERSION', '/version');
    rejects({ ...sample('thing.created'), version: 0 }, 'UNSUPPORTED_VERSION', '/version');
    rejects({ ...sample('thing.created'), version: '1' }, 'INVALID_EVENT', '/version');
  });

  it('checks the envelope fields', () => {
    rejects(
      { ...sample('thing.created'), id: '0190f5b2-3c4d-4e8f-9a0b-1c2d3e4f5a6b' },
      'INVALID_EVENT',
      '/id',
    ); // v4
    rejects(
      { ...sample('thing.created'), id: '0190F5B2-3C4D-7E8F-9A0B-1C2D3E4F5A6B' },
      'INVALID_EVENT',
      '/id',
    ); // upper case
    rejects({ ...sample('thing.created'), time: '2025-01-02T03:04:05+02:00' }, 'INVALID_EVENT', '/time');
    rejects({ ...sample('thing.created'), time: 1735787045678 }, 'INVALID_EVENT', '/time');
    rejects({ ...sample('thing.created'), tenantId: 'acme' }, 'INVALID_EVENT', '/tenantId');
    rejects({ ...sample('thing.created'), actor: 'root' }, 'INVALID_EVENT', '/actor');
    for (const actor of ['system', USER, `apikey:${USER}`])
      validateEvent({ ...sample('thing.created'), actor });
    const { actor: _, ...withoutActor } = sample('thing.created');
    validateEvent(withoutActor);
  });

  it('keeps secrets out: key hashes and password hashes only', () => {
    const thing = sample('thing.created');
    (thing.data as Record<string, unknown>).keyHash = 'the-plain-key';
    rejects(thing, 'INVALID_EVENT', '/data/keyHash');
    const user = sample('user.registered');
    (user.data as Record<string, unknown>).passwordHash = 'hunter2';
    rejects(user, 'INVALID_EVENT', '/data/passwordHash');
  });

  it('requires a change in update events', () => {
    const event = sample('thing.updated');
    event.data = { thingId: (event.data as { thingId: string }).thingId };
    assert.throws(
      () => validateEvent(event),
      (e) => isEventValidationError(e, 'INVALID_EVENT'),
    );
  });

  it('reports every issue, first one in the message', () => {
    const event = sample('alert.raised');
    event.data = { ...(event.data as object), severity: 'apocalyptic', value: { a: 1 } };
    try {
      validateEvent(event);
      assert.fail('should throw');
    } catch (err) {
      assert.ok(isEventValidationError(err, 'INVALID_EVENT'));
      assert.deepEqual(err.issues.map((i) => i.path).sort(), ['/data/severity', '/data/value']);
      assert.equal(err.eventType, 'alert.raised');
      assert.match(err.message, /^alert\.raised v1: \/data\/\w+ .+ \(and 1 more\)$/);
    }
  });
});

describe('isEventOf', () => {
  it('narrows to one type or a set of types', () => {
    const event: TellyEvent = validateEvent(sample('thing.created'));
    assert.ok(isEventOf(event, 'thing.created'));
    assert.ok(!isEventOf(event, 'thing.deleted'));
    assert.ok(isEventOf(event, ['thing.deleted', 'thing.created']));
    if (isEventOf(event, 'thing.created')) assert.equal(event.data.keyHash.startsWith('sha256:'), true);
  });
});
