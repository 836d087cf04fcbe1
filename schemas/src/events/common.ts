import Type, { type TObject, type TProperties, type TSchema } from 'typebox';
import { KEY_HASH_PATTERN } from '../credentials/key-hash.ts';
import { UUID_PATTERN, UUID_V7_PATTERN } from '../ids.ts';

/**
 * Building blocks shared by every event definition. Each event is one TypeBox schema: the
 * TypeScript type (`Static`) and the published JSON Schema come from the same object.
 */

/** Base of every event schema's `$id`. */
export const EVENT_SCHEMA_BASE_URL = 'https://telly.dev/schemas/events/';

/** `https://telly.dev/schemas/events/<type>.v<version>.json` */
export function eventSchemaId(type: string, version: number): string {
  return `${EVENT_SCHEMA_BASE_URL}${type}.v${version}.json`;
}

/** An entity id: a canonical lowercase UUID (Telly mints UUIDv7). */
export const Id = Type.String({ format: 'uuid', pattern: UUID_PATTERN, description: 'lowercase UUID' });

/** The event's own id: a UUIDv7, so ids sort by creation time. */
export const EventId = Type.String({ format: 'uuid', pattern: UUID_V7_PATTERN, description: 'UUIDv7' });

/**
 * An instant as an RFC 3339 UTC timestamp (`Date.prototype.toISOString()`); UTC only so that
 * timestamps compare as strings.
 */
export const Timestamp = Type.String({
  format: 'date-time',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$',
  description: 'RFC 3339 timestamp in UTC',
});

/** Who caused the event: a user id, `apikey:<id>` for API-key calls, or `system` for processors. */
export const Actor = Type.String({
  pattern: `^(system|apikey:${UUID_PATTERN.slice(1, -1)}|${UUID_PATTERN.slice(1, -1)})$`,
  description: "user id, 'apikey:<id>' or 'system'",
});

/** A human-readable name. */
export const Name = Type.String({ minLength: 1, maxLength: 200 });

/** Free-form JSON object attached to things and channels. */
export const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'free-form JSON object' });

/** Any JSON value (at the top level never `undefined`, which JSON cannot carry). */
export const JsonValue = Type.Union(
  [
    Type.Null(),
    Type.Boolean(),
    Type.Number(),
    Type.String(),
    Type.Array(Type.Unknown()),
    Type.Record(Type.String(), Type.Unknown()),
  ],
  { description: 'any JSON value' },
);

/**
 * Hash of a random secret (thing key, API key, bootstrap external key): `sha256:<hex>`.
 * These keys are high-entropy, so a fast hash suffices; the prefix makes it impossible to
 * store a bare key here by mistake. Never put the key itself in an event.
 */
export const KeyHash = Type.String({
  pattern: KEY_HASH_PATTERN,
  description: 'sha256:<hex> of the key',
});

/** A password hash in PHC string format (`$scrypt$…`, `$argon2id$…`); never the password. */
export const PasswordHash = Type.String({
  pattern: '^\\$[a-z0-9-]+\\$\\S+$',
  maxLength: 512,
  description: 'PHC string format',
});

/** Device-facing protocols. */
export const PROTOCOLS = ['mqtt', 'http', 'coap', 'kafka'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const ProtocolSchema = Type.Enum(PROTOCOLS);

/** Closed object for `data`: unknown properties are rejected so that secrets cannot slip in. */
export function data<P extends TProperties>(
  properties: P,
  options: { minProperties?: number } = {},
): TObject<P> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/**
 * One versioned event type: the envelope with `type` and `version` fixed and `data` as given.
 * The envelope is closed (no extra properties). Any change to `data` that older readers
 * cannot handle is a new version plus an upcaster from the previous one (see codec.ts).
 */
export function defineEvent<const T extends string, const V extends number, D extends TSchema>(
  type: T,
  version: V,
  dataSchema: D,
  description: string,
) {
  return Type.Object(
    {
      type: Type.Literal(type),
      // An integer const in the JSON Schema, the literal V in TypeScript.
      version: Type.Unsafe<V>(Type.Integer({ const: version })),
      id: EventId,
      time: Timestamp,
      tenantId: Id,
      actor: Type.Optional(Actor),
      data: dataSchema,
    },
    {
      $id: eventSchemaId(type, version),
      title: `${type} v${version}`,
      description,
      additionalProperties: false,
    },
  );
}
