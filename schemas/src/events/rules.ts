import Type, { type Static } from 'typebox';
import { ALERT_SEVERITIES } from './alerts.ts';
import { data, defineEvent, Id, JsonValue, Name } from './common.ts';

/**
 * Rules: registry entities (`reg.<tenant>.rule.<id>`) that the rules processor evaluates over
 * MESSAGES. A rule's whole definition travels in `rule.created` / `rule.updated`, so the
 * processor's state is a fold of these events. No event holds a secret: a webhook's signing
 * secret is kept out of the log (`secret: true` says the rule has one).
 */

/** Comparison operators of a rule condition; `no_data` compares nothing. */
export const RULE_OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq', 'between', 'outside', 'no_data'] as const;
/** What a condition compares: the reading itself, its rate of change, or a sliding-window aggregate. */
export const RULE_AGGREGATES = ['value', 'rate', 'avg', 'min', 'max'] as const;
export const RULE_ACTION_KINDS = ['email', 'command', 'webhook'] as const;
/** Most keys a rule's `thingMetadata` may name. */
export const MAX_RULE_METADATA_KEYS = 16;
/** Longest key, and longest string value, of a rule's `thingMetadata`. */
export const MAX_RULE_METADATA_KEY_LENGTH = 128;
export const MAX_RULE_METADATA_VALUE_LENGTH = 256;

const Duration = Type.String({ minLength: 2, maxLength: 16, description: 'e.g. "30s", "5m"' });
const Scalar = Type.Union([Type.Number(), Type.String({ maxLength: 256 }), Type.Boolean()]);

const Condition = Type.Object(
  {
    op: Type.Enum(RULE_OPS),
    /** The threshold (the lower bound for `between` / `outside`). */
    value: Type.Optional(Scalar),
    /** The upper bound for `between` / `outside`. */
    value2: Type.Optional(Type.Number()),
    /** True continuously this long before raising; for `no_data`, the silence that raises. */
    for: Type.Optional(Duration),
    /** Hysteresis: a raised alert resolves only once the compared value passes this one. */
    clearValue: Type.Optional(Type.Number()),
    /** @default 'value' */
    aggregate: Type.Optional(Type.Enum(RULE_AGGREGATES)),
    /** The sliding window of `rate` / `avg` / `min` / `max`. */
    window: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

const Email = Type.String({ format: 'email', maxLength: 254 });

/**
 * What a thing's metadata must hold for the rule to watch it: each key with exactly this
 * value. Values are scalars, so this is jsonb containment (`metadata @> thingMetadata`), the
 * same match as the registry's `things(filter: { metadata })`.
 */
const ThingMetadataMatch = Type.Record(
  Type.String(),
  Type.Union([
    Type.Null(),
    Type.Boolean(),
    Type.Number(),
    Type.String({ maxLength: MAX_RULE_METADATA_VALUE_LENGTH }),
  ]),
  { minProperties: 1, maxProperties: MAX_RULE_METADATA_KEYS },
);

const Action = Type.Union([
  Type.Object(
    { kind: Type.Literal('email'), to: Type.Array(Email, { minItems: 1, maxItems: 20 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('command'),
      thingId: Id,
      name: Type.String({ minLength: 1, maxLength: 128 }),
      payload: JsonValue,
      duration: Type.Optional(Duration),
      revertPayload: Type.Optional(JsonValue),
      /** The transition that sends it. @default 'raised' */
      on: Type.Optional(Type.Union([Type.Literal('raised'), Type.Literal('resolved')])),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('webhook'),
      url: Type.String({ minLength: 8, maxLength: 2048 }),
      secret: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
]);

const Definition = {
  name: Name,
  /** Scope: one thing, one channel, or (neither) every thing of the tenant. */
  thingId: Type.Optional(Id),
  channelId: Type.Optional(Id),
  /** Narrows a channel or tenant scope to the things whose metadata holds these values. */
  thingMetadata: Type.Optional(ThingMetadataMatch),
  /** The resolved SenML name the rule watches. */
  measurement: Type.String({ minLength: 1, maxLength: 256 }),
  condition: Condition,
  severity: Type.Enum(ALERT_SEVERITIES),
  /** Template with `{thing}`, `{name}`, `{value}`, `{threshold}`. */
  message: Type.String({ maxLength: 1024 }),
  actions: Type.Array(Action, { maxItems: 10 }),
  /** Least time between two notifications of the rule for one thing. */
  cooldown: Type.Optional(Duration),
};

const RuleDefinitionSchema = Type.Object(Definition, { additionalProperties: false });
/** What a rule is: its scope, measurement, condition, severity, message and actions. */
export type RuleDefinition = Static<typeof RuleDefinitionSchema>;

export const RuleCreated = defineEvent(
  'rule.created',
  1,
  data({ ruleId: Id, ...Definition, enabled: Type.Boolean() }),
  'A rule was created.',
);
export const RuleUpdated = defineEvent(
  'rule.updated',
  1,
  data({ ruleId: Id, ...Definition }),
  "A rule's definition was replaced.",
);
export const RuleEnabled = defineEvent('rule.enabled', 1, data({ ruleId: Id }), 'A rule is evaluated again.');
export const RuleDisabled = defineEvent(
  'rule.disabled',
  1,
  data({ ruleId: Id }),
  'A rule is no longer evaluated; its open alerts stay as they are.',
);
export const RuleDeleted = defineEvent('rule.deleted', 1, data({ ruleId: Id }), 'A rule was deleted.');

/** Rule event schemas by type (part of the registry's). */
export const RULE_EVENTS = {
  'rule.created': RuleCreated,
  'rule.updated': RuleUpdated,
  'rule.enabled': RuleEnabled,
  'rule.disabled': RuleDisabled,
  'rule.deleted': RuleDeleted,
} as const;
