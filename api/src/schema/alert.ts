import { builder, principalOf } from '../builder.ts';
import type { AlertActionRow, AlertRow } from '../services/alert-service.ts';
import { connectionType, pageComplexity, toConnection } from './pagination.ts';
import { AlertSeverity, Rule } from './rule.ts';
import { Thing } from './thing.ts';

const AlertStatus = builder.enumType('AlertStatus', {
  description: 'OPEN → ACKNOWLEDGED (by a user) → RESOLVED (the condition cleared) or CLEARED (by hand).',
  values: ['OPEN', 'ACKNOWLEDGED', 'RESOLVED', 'CLEARED'] as const,
});

const NotificationStatus = builder.enumType('NotificationStatus', {
  values: ['PENDING', 'RETRYING', 'SENT', 'FAILED', 'SUPPRESSED'] as const,
});

const Notification = builder.objectRef<AlertActionRow>('AlertNotification').implement({
  description: "One action of an alert's transition: e-mail, command or webhook, and what became of it.",
  fields: (t) => ({
    transition: t.string({ resolve: (n) => n.transition.toUpperCase(), description: 'RAISED or RESOLVED.' }),
    action: t.exposeInt('action', { description: "Index in the rule's actions." }),
    kind: t.string({ resolve: (n) => n.kind.toUpperCase() }),
    status: t.field({ type: NotificationStatus, resolve: (n) => n.status.toUpperCase() as never }),
    attempts: t.exposeInt('attempts'),
    lastError: t.exposeString('last_error', { nullable: true }),
    ref: t.exposeString('ref', {
      nullable: true,
      description: "The mail's Message-ID, the command id, or the webhook's HTTP status.",
    }),
    updatedAt: t.field({ type: 'DateTime', resolve: (n) => n.updated_at }),
  }),
});

export const Alert = builder.objectRef<AlertRow>('Alert').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    rule: t.field({
      type: Rule,
      nullable: true,
      description: 'Null once the rule is deleted.',
      resolve: (a, _args, ctx) => ctx.services.rules.rule(principalOf(ctx), a.rule_id),
    }),
    ruleId: t.exposeID('rule_id'),
    thing: t.field({
      type: Thing,
      nullable: true,
      resolve: (a, _args, ctx) => ctx.services.queries.thing(a.tenant_id, a.thing_id),
    }),
    thingId: t.exposeID('thing_id'),
    channelId: t.exposeID('channel_id'),
    measurement: t.exposeString('measurement'),
    severity: t.field({ type: AlertSeverity, resolve: (a) => a.severity.toUpperCase() as never }),
    status: t.field({ type: AlertStatus, resolve: (a) => a.status.toUpperCase() as never }),
    value: t.field({ type: 'JSON', nullable: true, resolve: (a) => a.value }),
    threshold: t.field({ type: 'JSON', nullable: true, resolve: (a) => a.threshold }),
    message: t.exposeString('message'),
    raisedAt: t.field({ type: 'DateTime', resolve: (a) => a.raised_at }),
    acknowledgedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.acknowledged_at }),
    acknowledgedBy: t.exposeString('acknowledged_by', { nullable: true }),
    note: t.exposeString('note', { nullable: true }),
    resolvedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.resolved_at }),
    clearedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.cleared_at }),
    notifications: t.field({
      type: [Notification],
      resolve: (a, _args, ctx) => ctx.services.alerts.actions(a.tenant_id, a.id),
    }),
  }),
});
const AlertConnection = connectionType('Alert', Alert);

builder.queryFields((t) => ({
  alert: t.field({
    type: Alert,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.alerts.alert(principalOf(ctx).tenantId, args.id),
  }),
  alerts: t.field({
    type: AlertConnection,
    authScopes: { viewer: true },
    complexity: pageComplexity,
    description: "The tenant's alerts, newest first.",
    args: {
      status: t.arg({ type: AlertStatus }),
      thingId: t.arg.id(),
      ruleId: t.arg.id(),
      severity: t.arg({ type: AlertSeverity }),
      from: t.arg({ type: 'DateTime', description: 'Raised at or after.' }),
      to: t.arg({ type: 'DateTime', description: 'Raised before.' }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) =>
      toConnection(
        await ctx.services.alerts.alerts(principalOf(ctx), {
          ...args,
          status: args.status ? (args.status.toLowerCase() as never) : null,
          severity: args.severity?.toLowerCase() ?? null,
        }),
      ),
  }),
}));

builder.mutationFields((t) => ({
  acknowledgeAlert: t.field({
    type: Alert,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }), note: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.services.alerts.acknowledge(principalOf(ctx), args.id, args.note),
  }),
  clearAlert: t.field({
    type: Alert,
    authScopes: { operator: true },
    description:
      'Closes an open or acknowledged alert by hand; the rule raises again once its condition is false and true again.',
    args: { id: t.arg.id({ required: true }), note: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.services.alerts.clear(principalOf(ctx), args.id, args.note),
  }),
}));

builder.subscriptionFields((t) => ({
  alerts: t.field({
    type: Alert,
    authScopes: { viewer: true },
    description: "Each change of the tenant's alerts (raised, acknowledged, resolved, cleared) from now on.",
    args: { thingId: t.arg.id() },
    subscribe: (_root, args, ctx) =>
      ctx.services.alerts.subscribe(principalOf(ctx), args.thingId ?? undefined, ctx.recheck),
    resolve: (alert) => alert,
  }),
}));
