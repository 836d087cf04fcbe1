import type { ReplayProgress, ReplayReport, VerifyReport } from '@telly/telemetry-pg';
import { builder, principalOf } from '../builder.ts';
import { ApiError } from '../errors.ts';
import type { ProjectionJob } from '../services/projection-ops.ts';

const JobState = builder.enumType('ProjectionJobState', {
  values: ['RUNNING', 'SUCCEEDED', 'FAILED'] as const,
});

const Progress = builder.objectRef<ReplayProgress>('ReplayProgress').implement({
  description: 'Where a rebuild is: its phase, the log position replayed, the rate and the time left.',
  fields: (t) => ({
    phase: t.exposeString('phase', { description: 'copy, bulk, derive, catch-up, swap, done' }),
    seq: t.float({ resolve: (p) => p.seq }),
    targetSeq: t.float({ resolve: (p) => p.targetSeq }),
    messages: t.exposeInt('messages'),
    points: t.exposeInt('points'),
    rate: t.exposeFloat('rate', { description: 'messages per second' }),
    etaSeconds: t.exposeFloat('etaSeconds', { nullable: true }),
  }),
});

const Report = builder.objectRef<ReplayReport>('ReplayReport').implement({
  fields: (t) => ({
    fromSeq: t.float({ resolve: (r) => r.fromSeq }),
    toSeq: t.float({ resolve: (r) => r.toSeq }),
    messages: t.exposeInt('messages'),
    points: t.exposeInt('points'),
    skipped: t.exposeInt('skipped', { description: 'entries that are not telemetry' }),
    keptRows: t.exposeInt('keptRows', { description: 'rows of earlier messages carried over' }),
    durationMs: t.exposeInt('durationMs'),
  }),
});

const Job = builder.objectRef<ProjectionJob>('ProjectionJob').implement({
  description: 'A projection rebuild running in the background.',
  fields: (t) => ({
    id: t.exposeID('id'),
    projection: t.exposeString('projection'),
    state: t.field({ type: JobState, resolve: (j) => j.state }),
    startedAt: t.field({ type: 'DateTime', resolve: (j) => new Date(j.startedAt) }),
    finishedAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (j) => (j.finishedAt ? new Date(j.finishedAt) : null),
    }),
    progress: t.field({ type: Progress, nullable: true, resolve: (j) => j.progress ?? null }),
    report: t.field({ type: Report, nullable: true, resolve: (j) => j.report ?? null }),
    error: t.string({ nullable: true, resolve: (j) => j.error ?? null }),
  }),
});

const Tally = builder.objectRef<{ count: number; checksum: string }>('VerifyTally').implement({
  fields: (t) => ({ count: t.exposeInt('count'), checksum: t.exposeString('checksum') }),
});

const Difference = builder.objectRef<VerifyReport['differences'][number]>('VerifyDifference').implement({
  fields: (t) => ({
    thingId: t.exposeID('thingId'),
    day: t.exposeString('day'),
    what: t.exposeString('what', { description: 'points, rollup_1m or rollup_1h' }),
    log: t.field({ type: Tally, resolve: (d) => d.log }),
    projection: t.field({ type: Tally, resolve: (d) => d.projection }),
  }),
});

/** Differences returned at most; `differenceCount` says how many there are. */
const MAX_DIFFERENCES = 1_000;

const Verification = builder.objectRef<VerifyReport>('ProjectionVerification').implement({
  description: 'The projection compared with the log: counts and checksums per thing and UTC day.',
  fields: (t) => ({
    fromSeq: t.float({ resolve: (r) => r.fromSeq }),
    toSeq: t.float({ resolve: (r) => r.toSeq }),
    messages: t.exposeInt('messages'),
    points: t.exposeInt('points'),
    rowsBeyondLog: t.exposeInt('rowsBeyondLog'),
    differenceCount: t.int({ resolve: (r) => r.differences.length }),
    differences: t.field({ type: [Difference], resolve: (r) => r.differences.slice(0, MAX_DIFFERENCES) }),
  }),
});

builder.mutationFields((t) => ({
  replayProjection: t.field({
    type: Job,
    authScopes: { admin: true },
    description:
      'Rebuilds a projection from the log into fresh tables and swaps them in (as `telly replay`); follow it with the projectionJob subscription. Admins of the operator tenant only.',
    args: {
      projection: t.arg.string({ required: true }),
      fromSeq: t.arg.int(),
      fromTime: t.arg({ type: 'DateTime' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.ops.replay(principalOf(ctx), args.projection, {
        seq: args.fromSeq ?? undefined,
        time: args.fromTime ?? undefined,
      }),
  }),
  verifyProjection: t.field({
    type: Verification,
    authScopes: { admin: true },
    description:
      'Compares a projection with the log (as `telly verify`). Admins of the operator tenant only.',
    args: { projection: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.ops.verify(principalOf(ctx), args.projection),
  }),
}));

builder.queryFields((t) => ({
  projectionJob: t.field({
    type: Job,
    nullable: true,
    authScopes: { admin: true },
    description: 'A rebuild run by this API instance. Admins of the operator tenant only.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.ops.job(principalOf(ctx), args.id) ?? null,
  }),
}));

builder.subscriptionFields((t) => ({
  projectionJob: t.field({
    type: Job,
    authScopes: { admin: true },
    description: "A rebuild's progress until it ends, from whichever API instance runs it.",
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => ctx.services.ops.watch(principalOf(ctx), args.id),
    resolve: (event) => {
      if (event instanceof ApiError) throw event;
      return event;
    },
  }),
}));
