// A rule as the form edits it (every field a string), and the CreateRuleInput it stands for.
import { ApiRequestError } from '../api/errors.ts';
import type { AlertSeverity, Rule, RuleAction, RuleAggregate, RuleInput, RuleOp } from '../api/types.ts';

export type Scope = 'thing' | 'channel' | 'tenant';

export interface ActionDraft {
  kind: RuleAction['kind'];
  to: string;
  thingId: string;
  name: string;
  payload: string;
  duration: string;
  revertPayload: string;
  on: 'RAISED' | 'RESOLVED';
  url: string;
  /** A new secret; never shown, and left blank the webhook keeps the one it has (updateRule). */
  secret: string;
  hasSecret: boolean;
}

export interface Draft {
  name: string;
  scope: Scope;
  thingId: string;
  channelId: string;
  thingMetadata: string;
  measurement: string;
  op: RuleOp;
  aggregate: RuleAggregate;
  window: string;
  value: string;
  value2: string;
  for: string;
  clearValue: string;
  severity: AlertSeverity;
  message: string;
  cooldown: string;
  actions: ActionDraft[];
}

export const OPS: { op: RuleOp; words: string }[] = [
  { op: 'GT', words: 'above (>)' },
  { op: 'GTE', words: 'at least (≥)' },
  { op: 'LT', words: 'below (<)' },
  { op: 'LTE', words: 'at most (≤)' },
  { op: 'EQ', words: 'equal to (=)' },
  { op: 'NEQ', words: 'not equal to (≠)' },
  { op: 'BETWEEN', words: 'between' },
  { op: 'OUTSIDE', words: 'outside' },
  { op: 'NO_DATA', words: 'no data for' },
];
export const AGGREGATES: { aggregate: RuleAggregate; words: string }[] = [
  { aggregate: 'VALUE', words: 'each reading' },
  { aggregate: 'AVG', words: 'average over a window' },
  { aggregate: 'MIN', words: 'minimum over a window' },
  { aggregate: 'MAX', words: 'maximum over a window' },
  { aggregate: 'RATE', words: 'rate of change per second' },
];
export const SEVERITIES: AlertSeverity[] = ['INFO', 'WARNING', 'MINOR', 'MAJOR', 'CRITICAL'];
/** The ops that take a second bound, and those a clear value (hysteresis) applies to. */
export const RANGED = new Set<RuleOp>(['BETWEEN', 'OUTSIDE']);
export const THRESHOLD = new Set<RuleOp>(['GT', 'GTE', 'LT', 'LTE']);

export const emptyAction = (kind: ActionDraft['kind']): ActionDraft => ({
  kind,
  to: '',
  thingId: '',
  name: '',
  payload: '{}',
  duration: '',
  revertPayload: '',
  on: 'RAISED',
  url: '',
  secret: '',
  hasSecret: false,
});

export const EMPTY_DRAFT: Draft = {
  name: '',
  scope: 'thing',
  thingId: '',
  channelId: '',
  thingMetadata: '',
  measurement: '',
  op: 'GT',
  aggregate: 'VALUE',
  window: '',
  value: '',
  value2: '',
  for: '',
  clearValue: '',
  severity: 'WARNING',
  message: '',
  cooldown: '',
  actions: [],
};

const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const json = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));

/** The form's values of a saved rule. */
export function draftOf(rule: Rule): Draft {
  const c = rule.condition;
  return {
    name: rule.name,
    scope: rule.thingId ? 'thing' : rule.channelId ? 'channel' : 'tenant',
    thingId: rule.thingId ?? '',
    channelId: rule.channelId ?? '',
    thingMetadata: json(rule.thingMetadata),
    measurement: rule.measurement,
    op: c.op,
    aggregate: c.aggregate ?? 'VALUE',
    window: text(c.window),
    value: text(c.value ?? c.valueString ?? c.valueBoolean),
    value2: text(c.value2),
    for: text(c.for),
    clearValue: text(c.clearValue),
    severity: rule.severity,
    message: rule.message,
    cooldown: text(rule.cooldown),
    actions: rule.actions.map((a) => {
      const d = emptyAction(a.kind);
      if (a.kind === 'email') d.to = a.to.join(', ');
      if (a.kind === 'command')
        Object.assign(d, {
          thingId: a.thingId,
          name: a.name,
          payload: json(a.payload),
          duration: text(a.duration),
          revertPayload: json(a.revertPayload),
          on: a.on === 'resolved' ? 'RESOLVED' : 'RAISED',
        });
      if (a.kind === 'webhook') Object.assign(d, { url: a.url, hasSecret: a.secret });
      return d;
    }),
  };
}

/** A complaint about one field before anything is sent, shown where the API's would be. */
const invalid = (field: string, message: string) =>
  new ApiRequestError(`${field}: ${message}`, 'VALIDATION_FAILED', field);

const number = (field: string, value: string): number | null => {
  const t = value.trim();
  if (!t) return null;
  const n = Number(t);
  if (!Number.isFinite(n)) throw invalid(field, `must be a number, got ${JSON.stringify(t)}`);
  return n;
};

const parsed = (field: string, value: string): unknown => {
  const t = value.trim();
  if (!t) return null;
  try {
    return JSON.parse(t);
  } catch (err) {
    throw invalid(field, `is not valid JSON: ${(err as Error).message}`);
  }
};

const orNull = (value: string) => value.trim() || null;

/**
 * The input the draft stands for; an ApiRequestError naming the field when one cannot be read.
 * A webhook's secret left blank is not sent: updateRule keeps the one the webhook has.
 */
export function inputOf(d: Draft): RuleInput {
  const condition: RuleInput['condition'] = { op: d.op };
  if (d.op !== 'NO_DATA') {
    const raw = d.value.trim();
    const n = Number(raw);
    // EQ / NEQ also compare strings and booleans (SenML vs, vb)
    if ((d.op === 'EQ' || d.op === 'NEQ') && raw && !Number.isFinite(n)) {
      if (raw === 'true' || raw === 'false') condition.valueBoolean = raw === 'true';
      else condition.valueString = raw;
    } else condition.value = number('input.condition.value', raw);
    if (RANGED.has(d.op)) condition.value2 = number('input.condition.value2', d.value2);
    if (THRESHOLD.has(d.op)) condition.clearValue = number('input.condition.clearValue', d.clearValue);
    condition.aggregate = d.aggregate;
    if (d.aggregate !== 'VALUE') condition.window = orNull(d.window);
  }
  condition.for = orNull(d.for);
  if (d.scope === 'thing' && !d.thingId)
    throw invalid('input.thingId', 'is required: pick the thing to watch');
  if (d.scope === 'channel' && !d.channelId)
    throw invalid('input.channelId', 'is required: pick the channel to watch');
  const metadata = d.scope === 'thing' ? null : parsed('input.thingMetadata', d.thingMetadata);
  return {
    name: d.name.trim(),
    thingId: d.scope === 'thing' ? orNull(d.thingId) : null,
    channelId: d.scope === 'channel' ? orNull(d.channelId) : null,
    thingMetadata: metadata as Record<string, unknown> | null,
    measurement: d.measurement.trim(),
    condition,
    severity: d.severity,
    message: orNull(d.message),
    cooldown: orNull(d.cooldown),
    actions: d.actions.map((a, i) => {
      const field = `input.actions[${i}]`;
      if (a.kind === 'email')
        return {
          email: {
            to: a.to
              .split(/[\s,;]+/)
              .map((s) => s.trim())
              .filter(Boolean),
          },
        };
      if (a.kind === 'webhook') {
        const secret = orNull(a.secret);
        return { webhook: secret ? { url: a.url.trim(), secret } : { url: a.url.trim() } };
      }
      const duration = orNull(a.duration);
      return {
        command: {
          thingId: a.thingId,
          name: a.name.trim(),
          payload: parsed(`${field}.command.payload`, a.payload),
          duration,
          revertPayload: duration ? parsed(`${field}.command.revertPayload`, a.revertPayload) : null,
          on: a.on,
        },
      };
    }),
  };
}
