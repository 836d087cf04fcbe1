import {
  ALERT_SEVERITIES,
  type AlertSeverity,
  isDurationError,
  MAX_RULE_METADATA_KEY_LENGTH,
  MAX_RULE_METADATA_KEYS,
  MAX_RULE_METADATA_VALUE_LENGTH,
  parseDuration,
  RULE_AGGREGATES,
  RULE_OPS,
  type RuleDefinition,
} from '@telly/schemas';
import { invalidRule } from './errors.ts';
import type { Rule } from './types.ts';

/** A rule as a client gives it (GraphQL's `CreateRuleInput`, lower-cased enums). */
export interface RuleInput {
  name: string;
  thingId?: string | null | undefined;
  channelId?: string | null | undefined;
  /** Narrows a channel or tenant scope: things whose metadata has each key with this value. */
  thingMetadata?: unknown;
  measurement: string;
  condition: {
    op: string;
    value?: number | null | undefined;
    value2?: number | null | undefined;
    /** String equality (`eq` / `neq`). */
    valueString?: string | null | undefined;
    /** Boolean equality (`eq` / `neq`). */
    valueBoolean?: boolean | null | undefined;
    for?: string | null | undefined;
    clearValue?: number | null | undefined;
    aggregate?: string | null | undefined;
    window?: string | null | undefined;
  };
  severity?: string | null | undefined;
  message?: string | null | undefined;
  cooldown?: string | null | undefined;
  actions?: readonly RuleActionInput[] | null | undefined;
}

export interface RuleActionInput {
  email?: { to: readonly string[] } | null | undefined;
  command?:
    | {
        thingId: string;
        name: string;
        payload?: unknown;
        duration?: string | null | undefined;
        revertPayload?: unknown;
        /** `raised` (the default) or `resolved`. */
        on?: string | null | undefined;
      }
    | null
    | undefined;
  webhook?: { url: string; secret?: string | null | undefined } | null | undefined;
}

export const MAX_RULE_ACTIONS = 10;
export const MAX_EMAIL_RECIPIENTS = 20;
/** Longest `for`, `window`, `cooldown`, and command `duration`. */
export const MAX_RULE_DURATION_MS = 24 * 3_600_000;
const DEFAULT_MESSAGE = '{thing}: {name} is {value} (threshold {threshold})';
// what nodemailer and most MTAs accept: one @, no spaces, a dotted domain
const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

function duration(field: string, text: string, minMs = 0): number {
  try {
    return parseDuration(text, { min: minMs, max: MAX_RULE_DURATION_MS });
  } catch (err) {
    if (!isDurationError(err)) throw err;
    throw invalidRule(
      field,
      `must be a duration such as "30s", "5m", "1h" (at most 24 h), got ${JSON.stringify(text)}`,
    );
  }
}

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;

/**
 * Checks a rule's input and returns its definition; a {@link RuleError} `INVALID_RULE` names
 * the first field that is wrong. What needs the registry (that a thing or channel is the
 * tenant's) is the caller's to check.
 */
export function validateRule(input: RuleInput): RuleDefinition {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw invalidRule('name', 'must be 1 to 200 characters');
  if (present(input.thingId) && present(input.channelId)) {
    throw invalidRule(
      'channelId',
      'cannot be given with thingId: a rule watches one thing, one channel, or the tenant',
    );
  }
  const thingMetadata = present(input.thingMetadata) ? validateThingMetadata(input) : undefined;
  const measurement = input.measurement.trim();
  if (measurement.length < 1 || measurement.length > 256) {
    throw invalidRule('measurement', 'must be a SenML name of 1 to 256 characters');
  }
  const c = input.condition;
  const op = c.op.toLowerCase() as (typeof RULE_OPS)[number];
  if (!RULE_OPS.includes(op)) throw invalidRule('condition.op', `must be one of ${RULE_OPS.join(', ')}`);
  const condition: RuleDefinition['condition'] = { op };
  const values = [c.value, c.valueString, c.valueBoolean].filter(present);
  if (values.length > 1) throw invalidRule('condition.value', 'give one of value, valueString, valueBoolean');
  const value = values[0];
  if (op === 'no_data') {
    if (!present(c.for))
      throw invalidRule('condition.for', 'is required for NO_DATA: how long a thing may be silent');
    condition.for = c.for;
    duration('condition.for', c.for, 1_000);
    if (value !== undefined || present(c.value2) || present(c.clearValue) || present(c.aggregate)) {
      throw invalidRule('condition', 'NO_DATA compares no value: give only for');
    }
  } else {
    if (value === undefined) throw invalidRule('condition.value', 'is required');
    if (typeof value !== 'number' && op !== 'eq' && op !== 'neq') {
      throw invalidRule('condition.value', `must be a number for ${op.toUpperCase()}`);
    }
    if (typeof value === 'number' && !Number.isFinite(value))
      throw invalidRule('condition.value', 'must be finite');
    condition.value = value;
    if (op === 'between' || op === 'outside') {
      if (!present(c.value2)) throw invalidRule('condition.value2', `is required for ${op.toUpperCase()}`);
      if (c.value2 < (value as number)) throw invalidRule('condition.value2', 'must not be less than value');
      condition.value2 = c.value2;
    } else if (present(c.value2)) {
      throw invalidRule('condition.value2', 'is only for BETWEEN and OUTSIDE');
    }
    if (present(c.for)) {
      duration('condition.for', c.for);
      condition.for = c.for;
    }
    if (present(c.clearValue)) {
      const v = value as number;
      const ok =
        ((op === 'gt' || op === 'gte') && c.clearValue <= v) ||
        ((op === 'lt' || op === 'lte') && c.clearValue >= v);
      if (!ok) {
        throw invalidRule(
          'condition.clearValue',
          'must be on the safe side of value (at most it for GT/GTE, at least it for LT/LTE)',
        );
      }
      condition.clearValue = c.clearValue;
    }
    const aggregate = (c.aggregate ?? 'value').toLowerCase() as (typeof RULE_AGGREGATES)[number];
    if (!RULE_AGGREGATES.includes(aggregate)) {
      throw invalidRule('condition.aggregate', `must be one of ${RULE_AGGREGATES.join(', ')}`);
    }
    if (aggregate !== 'value') {
      if (typeof value !== 'number') throw invalidRule('condition.aggregate', 'compares numbers only');
      if (!present(c.window))
        throw invalidRule('condition.window', `is required for ${aggregate.toUpperCase()}`);
      duration('condition.window', c.window, 1_000);
      condition.aggregate = aggregate;
      condition.window = c.window;
    } else if (present(c.window)) {
      throw invalidRule('condition.window', 'is only for RATE, AVG, MIN and MAX');
    }
  }
  const severity = (input.severity ?? 'warning').toLowerCase() as AlertSeverity;
  if (!ALERT_SEVERITIES.includes(severity)) {
    throw invalidRule('severity', `must be one of ${ALERT_SEVERITIES.join(', ')}`);
  }
  const message = input.message ?? DEFAULT_MESSAGE;
  if (message.length > 1024) throw invalidRule('message', 'must be at most 1024 characters');
  const actions = (input.actions ?? []).map((a, i) => validateAction(a, `actions[${i}]`));
  if (actions.length > MAX_RULE_ACTIONS) throw invalidRule('actions', `must be at most ${MAX_RULE_ACTIONS}`);
  const def: RuleDefinition = { name, measurement, condition, severity, message, actions };
  if (present(input.thingId)) def.thingId = input.thingId;
  if (present(input.channelId)) def.channelId = input.channelId;
  if (thingMetadata) def.thingMetadata = thingMetadata;
  if (present(input.cooldown)) {
    duration('cooldown', input.cooldown);
    def.cooldown = input.cooldown;
  }
  return def;
}

type MetadataMatch = NonNullable<RuleDefinition['thingMetadata']>;

function validateThingMetadata(input: RuleInput): MetadataMatch {
  const field = 'thingMetadata';
  if (present(input.thingId)) {
    throw invalidRule(
      field,
      'cannot be given with thingId: it narrows a channel or the whole tenant to the things whose metadata matches',
    );
  }
  const given = input.thingMetadata;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw invalidRule(field, 'must be a JSON object such as {"zone": "greenhouse-1"}');
  }
  const entries = Object.entries(given);
  if (entries.length < 1 || entries.length > MAX_RULE_METADATA_KEYS) {
    throw invalidRule(field, `must name 1 to ${MAX_RULE_METADATA_KEYS} keys`);
  }
  const match: MetadataMatch = {};
  for (const [key, value] of entries) {
    const named = JSON.stringify(key.slice(0, 64));
    if (key.length < 1 || key.length > MAX_RULE_METADATA_KEY_LENGTH) {
      throw invalidRule(field, `keys must be 1 to ${MAX_RULE_METADATA_KEY_LENGTH} characters, got ${named}`);
    }
    const scalar =
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.length <= MAX_RULE_METADATA_VALUE_LENGTH);
    if (!scalar) {
      throw invalidRule(
        field,
        `values must be strings of at most ${MAX_RULE_METADATA_VALUE_LENGTH} characters, numbers, booleans or null, not ${named}'s`,
      );
    }
    match[key] = value as MetadataMatch[string];
  }
  return match;
}

function validateAction(a: RuleActionInput, field: string): RuleDefinition['actions'][number] {
  const given = [a.email, a.command, a.webhook].filter(present);
  if (given.length !== 1) throw invalidRule(field, 'must be exactly one of email, command, webhook');
  if (a.email) {
    if (a.email.to.length < 1 || a.email.to.length > MAX_EMAIL_RECIPIENTS) {
      throw invalidRule(`${field}.email.to`, `must list 1 to ${MAX_EMAIL_RECIPIENTS} addresses`);
    }
    a.email.to.forEach((to, j) => {
      if (to.length > 254 || !EMAIL.test(to)) {
        throw invalidRule(
          `${field}.email.to[${j}]`,
          `is not an e-mail address: ${JSON.stringify(to.slice(0, 64))}`,
        );
      }
    });
    return { kind: 'email', to: [...a.email.to] };
  }
  if (a.command) {
    const name = a.command.name.trim();
    if (name.length < 1 || name.length > 128)
      throw invalidRule(`${field}.command.name`, 'must be 1 to 128 characters');
    for (const key of ['payload', 'revertPayload'] as const) {
      if (Buffer.byteLength(JSON.stringify(a.command[key] ?? null)) > 16 * 1024) {
        throw invalidRule(`${field}.command.${key}`, 'must be at most 16384 bytes of JSON');
      }
    }
    const action: RuleDefinition['actions'][number] = {
      kind: 'command',
      thingId: a.command.thingId,
      name,
      payload: (a.command.payload ?? null) as never,
    };
    if (present(a.command.duration)) {
      duration(`${field}.command.duration`, a.command.duration, 1_000);
      action.duration = a.command.duration;
      action.revertPayload = (a.command.revertPayload ?? null) as never;
    } else if (present(a.command.revertPayload)) {
      throw invalidRule(`${field}.command.revertPayload`, 'needs a duration');
    }
    if (present(a.command.on)) {
      const on = a.command.on.toLowerCase();
      if (on !== 'raised' && on !== 'resolved') {
        throw invalidRule(`${field}.command.on`, 'must be RAISED or RESOLVED');
      }
      if (on === 'resolved') action.on = on;
    }
    return action;
  }
  const webhook = a.webhook!;
  let url: URL;
  try {
    url = new URL(webhook.url);
  } catch {
    throw invalidRule(`${field}.webhook.url`, 'is not a URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || webhook.url.length > 2048) {
    throw invalidRule(`${field}.webhook.url`, 'must be an http(s) URL of at most 2048 characters');
  }
  if (present(webhook.secret) && (webhook.secret.length < 16 || webhook.secret.length > 256)) {
    throw invalidRule(`${field}.webhook.secret`, 'must be 16 to 256 characters');
  }
  return { kind: 'webhook', url: webhook.url, secret: present(webhook.secret) };
}

/** A stored definition as the evaluator uses it. */
export function toRule(id: string, tenantId: string, enabled: boolean, def: RuleDefinition): Rule {
  const ms = (d: string | undefined) =>
    d === undefined ? 0 : parseDuration(d, { max: MAX_RULE_DURATION_MS });
  return {
    id,
    tenantId,
    enabled,
    def,
    forMs: ms(def.condition.for),
    windowMs: ms(def.condition.window),
    cooldownMs: ms(def.cooldown),
  };
}
