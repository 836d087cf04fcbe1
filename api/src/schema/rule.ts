import {
  type BacktestAlert as BacktestAlertShape,
  type BacktestResult,
  MAX_BACKTEST_ALERTS,
} from '@telly/rules';
import type { Job } from '@telly/runtime';
import { ALERT_SEVERITIES, RULE_AGGREGATES, RULE_OPS, type RuleDefinition } from '@telly/schemas';
import { builder, principalOf } from '../builder.ts';
import { notFound } from '../errors.ts';
import type { RuleRow } from '../services/rule-service.ts';
import { JobInterface, jobChanges, jobEvent } from './job.ts';
import { connectionType, pageComplexity, toConnection } from './pagination.ts';

const upper = <T extends string>(values: readonly T[]) =>
  values.map((v) => v.toUpperCase()) as Uppercase<T>[];

export const RuleOp = builder.enumType('RuleOp', { values: upper(RULE_OPS) });
export const RuleAggregate = builder.enumType('RuleAggregate', {
  description:
    'What a condition compares: the reading (VALUE), its rate of change per second, or AVG/MIN/MAX over a window.',
  values: upper(RULE_AGGREGATES),
});
export const AlertSeverity = builder.enumType('AlertSeverity', { values: upper(ALERT_SEVERITIES) });

const RuleConditionInput = builder.inputType('RuleConditionInput', {
  fields: (t) => ({
    op: t.field({ type: RuleOp, required: true }),
    value: t.float({ description: 'The threshold; the lower bound for BETWEEN / OUTSIDE.' }),
    value2: t.float({ description: 'The upper bound for BETWEEN / OUTSIDE.' }),
    valueString: t.string({ description: 'EQ / NEQ against a string reading (SenML vs).' }),
    valueBoolean: t.boolean({ description: 'EQ / NEQ against a boolean reading (SenML vb).' }),
    for: t.string({
      description: 'True continuously this long before raising, e.g. "30s"; for NO_DATA, the silence.',
    }),
    clearValue: t.float({ description: 'Hysteresis: a raised alert resolves only past this value.' }),
    aggregate: t.field({ type: RuleAggregate }),
    window: t.string({ description: 'The sliding window of RATE / AVG / MIN / MAX, e.g. "5m".' }),
  }),
});

const EmailActionInput = builder.inputType('EmailActionInput', {
  fields: (t) => ({ to: t.stringList({ required: true }) }),
});
const AlertTransition = builder.enumType('AlertTransition', {
  description: 'A change of an alert that actions run on.',
  values: ['RAISED', 'RESOLVED'] as const,
});

const CommandActionInput = builder.inputType('CommandActionInput', {
  fields: (t) => ({
    thingId: t.id({ required: true }),
    name: t.string({ required: true }),
    payload: t.field({ type: 'JSON' }),
    duration: t.string({ description: 'A timed command: revertPayload is sent after this.' }),
    revertPayload: t.field({ type: 'JSON' }),
    on: t.field({
      type: AlertTransition,
      description: 'The transition that sends the command: RAISED (the default) or RESOLVED.',
    }),
  }),
});
const WebhookActionInput = builder.inputType('WebhookActionInput', {
  fields: (t) => ({
    url: t.string({ required: true }),
    secret: t.string({
      description:
        "Signs each POST: X-Telly-Signature: sha256=<HMAC of the body>. Never shown again. Left out in updateRule, the secret of the rule's webhook to the same URL is kept; null removes it.",
    }),
  }),
});
const RuleActionInput = builder.inputType('RuleActionInput', {
  isOneOf: true,
  fields: (t) => ({
    email: t.field({ type: EmailActionInput }),
    command: t.field({ type: CommandActionInput }),
    webhook: t.field({ type: WebhookActionInput }),
  }),
});

export const CreateRuleInput = builder.inputType('CreateRuleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    thingId: t.id({ description: 'Watch one thing (or give channelId, or neither: the whole tenant).' }),
    channelId: t.id(),
    thingMetadata: t.field({
      type: 'JSON',
      description:
        'Narrows the channel or the tenant to the things whose metadata has each of these keys with exactly this value (a string, number, boolean or null), e.g. {"zone": "greenhouse-1"}; not with thingId.',
    }),
    measurement: t.string({
      required: true,
      description: 'The resolved SenML name, e.g. "urn:dev:mac:…:temp" or "temp".',
    }),
    condition: t.field({ type: RuleConditionInput, required: true }),
    severity: t.field({ type: AlertSeverity }),
    message: t.string({ description: 'Template: {thing}, {name}, {value}, {threshold}.' }),
    cooldown: t.string({
      description: "Least time between two alerts' notifications of the rule for one thing.",
    }),
    actions: t.field({ type: [RuleActionInput] }),
  }),
});

type Input = typeof CreateRuleInput.$inferInput;

/** The GraphQL input as the rules package takes it (enums lower-cased). */
export function ruleInput(input: Input) {
  return {
    ...input,
    condition: {
      ...input.condition,
      op: input.condition.op.toLowerCase(),
      aggregate: input.condition.aggregate?.toLowerCase(),
    },
    severity: input.severity?.toLowerCase(),
    actions: input.actions?.map((a) => ({ email: a.email, command: a.command, webhook: a.webhook })),
  };
}

const RuleCondition = builder.objectRef<RuleDefinition['condition']>('RuleCondition').implement({
  fields: (t) => ({
    op: t.field({ type: RuleOp, resolve: (c) => c.op.toUpperCase() as never }),
    value: t.float({ nullable: true, resolve: (c) => (typeof c.value === 'number' ? c.value : null) }),
    value2: t.float({ nullable: true, resolve: (c) => c.value2 ?? null }),
    valueString: t.string({ nullable: true, resolve: (c) => (typeof c.value === 'string' ? c.value : null) }),
    valueBoolean: t.boolean({
      nullable: true,
      resolve: (c) => (typeof c.value === 'boolean' ? c.value : null),
    }),
    for: t.string({ nullable: true, resolve: (c) => c.for ?? null }),
    clearValue: t.float({ nullable: true, resolve: (c) => c.clearValue ?? null }),
    aggregate: t.field({
      type: RuleAggregate,
      resolve: (c) => (c.aggregate ?? 'value').toUpperCase() as never,
    }),
    window: t.string({ nullable: true, resolve: (c) => c.window ?? null }),
  }),
});

export const Rule = builder.objectRef<RuleRow>('Rule').implement({
  description:
    'An alert rule: a condition on one measurement of one thing, a channel or the tenant, and its actions.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    enabled: t.exposeBoolean('enabled'),
    thingId: t.exposeID('thing_id', { nullable: true }),
    channelId: t.exposeID('channel_id', { nullable: true }),
    thingMetadata: t.field({
      type: 'JSON',
      nullable: true,
      description:
        'The metadata a thing must have for the rule to watch it (null: every thing of the scope).',
      resolve: (r) => r.definition.thingMetadata ?? null,
    }),
    measurement: t.exposeString('measurement'),
    condition: t.field({ type: RuleCondition, resolve: (r) => r.definition.condition }),
    severity: t.field({ type: AlertSeverity, resolve: (r) => r.definition.severity.toUpperCase() as never }),
    message: t.string({ resolve: (r) => r.definition.message }),
    cooldown: t.string({ nullable: true, resolve: (r) => r.definition.cooldown ?? null }),
    actions: t.field({
      type: 'JSON',
      description:
        'The actions: { kind: email | command | webhook, … } (a webhook shows whether it has a secret, never the secret).',
      resolve: (r) => r.definition.actions,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (r) => r.updated_at }),
  }),
});
const RuleConnection = connectionType('Rule', Rule);

const BacktestAlert = builder.objectRef<BacktestAlertShape>('BacktestAlert').implement({
  description: 'An alert the rule would have raised (with the id the live rule gives it).',
  fields: (t) => ({
    alertId: t.exposeID('alertId'),
    thingId: t.exposeID('thingId'),
    measurement: t.exposeString('name'),
    value: t.field({ type: 'JSON', nullable: true, resolve: (a) => a.value ?? null }),
    raisedAt: t.field({ type: 'DateTime', resolve: (a) => a.raisedAt }),
    resolvedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.resolvedAt }),
  }),
});
const BacktestResultType = builder.objectRef<BacktestResult>('BacktestResult').implement({
  fields: (t) => ({
    alerts: t.field({
      type: [BacktestAlert],
      description: `The alerts raised, in order, at most ${MAX_BACKTEST_ALERTS}.`,
      resolve: (b) => b.alerts,
    }),
    raised: t.exposeInt('raised', { description: 'Alerts raised, also those past the ones listed.' }),
    readings: t.exposeInt('readings', { description: 'Readings of the measurement evaluated.' }),
    messages: t.exposeInt('entries', { description: 'Log entries read.' }),
  }),
});
const BacktestJob = builder.objectRef<Job<BacktestResult>>('BacktestJob').implement({
  description:
    'A backtest of the tenant’s backtest queue; its progress is the share of the range’s log read.',
  interfaces: [JobInterface],
  fields: (t) => ({
    result: t.field({
      type: BacktestResultType,
      nullable: true,
      description: 'Once DONE: the alerts the rule would have raised.',
      resolve: (j) => j.result ?? null,
    }),
  }),
});

builder.queryFields((t) => ({
  rule: t.field({
    type: Rule,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.rules.rule(principalOf(ctx), args.id),
  }),
  rules: t.field({
    type: RuleConnection,
    authScopes: { viewer: true },
    complexity: pageComplexity,
    description: "The tenant's rules, newest first.",
    args: { first: t.arg.int(), after: t.arg.string(), thingId: t.arg.id(), channelId: t.arg.id() },
    resolve: async (_root, args, ctx) => toConnection(await ctx.services.rules.rules(principalOf(ctx), args)),
  }),
  backtestJob: t.field({
    type: BacktestJob,
    nullable: true,
    authScopes: { operator: true },
    description: 'A backtest of the tenant’s, while it is kept (an hour after it ended).',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) =>
      (await ctx.services.rules.backtests.get(principalOf(ctx).tenantId, args.id)) ?? null,
  }),
}));

builder.mutationFields((t) => ({
  backtestRule: t.field({
    type: BacktestJob,
    authScopes: { operator: true },
    description:
      'Starts a backtest: the rule run over the log between from and to (at most 31 days) as a job; poll backtestJob for its progress and the alerts it would have raised. Nothing is stored, mailed or sent.',
    args: {
      input: t.arg({ type: CreateRuleInput, required: true }),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      ruleId: t.arg.id({
        description: 'Backtest as this saved rule (its alert ids); the input is the definition.',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.rules.backtest(
        principalOf(ctx),
        ruleInput(args.input),
        args.from,
        args.to,
        args.ruleId ?? undefined,
      ),
  }),
  cancelBacktestJob: t.field({
    type: BacktestJob,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const job = await ctx.services.rules.backtests.cancel(principalOf(ctx).tenantId, args.id);
      if (!job) throw notFound('backtest job', args.id);
      return job;
    },
  }),
  createRule: t.field({
    type: Rule,
    authScopes: { operator: true },
    args: { input: t.arg({ type: CreateRuleInput, required: true }), enabled: t.arg.boolean() },
    resolve: (_root, args, ctx) =>
      ctx.services.rules.create(principalOf(ctx), ruleInput(args.input), args.enabled ?? true),
  }),
  updateRule: t.field({
    type: Rule,
    authScopes: { operator: true },
    description: "Replaces a rule's definition; what it had evaluated (durations running) starts over.",
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: CreateRuleInput, required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.rules.update(principalOf(ctx), args.id, ruleInput(args.input)),
  }),
  enableRule: t.field({
    type: Rule,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.rules.setEnabled(principalOf(ctx), args.id, true),
  }),
  disableRule: t.field({
    type: Rule,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.rules.setEnabled(principalOf(ctx), args.id, false),
  }),
  deleteRule: t.boolean({
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.rules.delete(principalOf(ctx), args.id),
  }),
}));

builder.subscriptionFields((t) => ({
  backtestJob: t.field({
    type: BacktestJob,
    authScopes: { operator: true },
    description: 'A backtest’s changes (its progress) until it ends, whichever API instance runs it.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) =>
      jobChanges(ctx.services.rules.backtests, principalOf(ctx).tenantId, args.id),
    resolve: jobEvent,
  }),
}));
