import type { Job, JobQueue } from '@telly/runtime';
import { Repeater } from 'graphql-yoga';
import { builder } from '../builder.ts';
import { ApiError } from '../errors.ts';

/** Where a job of a tenant's queue is (the model queue's and the backtests'). */
export const JobStatus = builder.enumType('JobStatus', {
  description: 'QUEUED → RUNNING → DONE / FAILED / CANCELLED.',
  values: ['QUEUED', 'RUNNING', 'DONE', 'FAILED', 'CANCELLED'] as const,
});

/** The GraphQL value of a job's status. */
export const jobStatusOf = (job: Job) => job.status.toUpperCase() as Uppercase<Job['status']>;

/** What every job of a tenant's queue shows; ModelJob and BacktestJob add what it made. */
export const JobInterface = builder.interfaceRef<Job>('Job').implement({
  description:
    'A job of a tenant’s queue: any API instance answers for it; it runs on the one that took it (a restart of that one fails it).',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.exposeString('kind', { description: 'predict, train, backtest or replay' }),
    status: t.field({ type: JobStatus, resolve: jobStatusOf }),
    progress: t.exposeFloat('progress', {
      description:
        '0 to 1 while it runs (a training’s steps, the share of a backtest’s range read); 1 once DONE.',
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (j) => j.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => j.startedAt ?? null }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => j.finishedAt ?? null }),
    error: t.string({ nullable: true, resolve: (j) => j.error ?? null }),
  }),
});

const ended = (job: Job) => job.status !== 'queued' && job.status !== 'running';

/**
 * A job subscription's events: the tenant's job as it is now, then each change until it ends
 * (whichever API instance runs it); NOT_FOUND when the tenant has no such job.
 */
export function jobChanges<R>(jobs: JobQueue<R>, tenantId: string, id: string): Repeater<Job<R> | ApiError> {
  return new Repeater<Job<R> | ApiError>((push, stop) => {
    const unwatch = jobs.watch(tenantId, id, (j) => {
      push(j ?? new ApiError('NOT_FOUND', `job ${id} not found`)).catch(() => {});
      if (!j || ended(j)) stop();
    });
    stop.then(unwatch);
  });
}

/** Resolves a {@link jobChanges} event: the job, or its error thrown. */
export function jobEvent<R>(event: Job<R> | ApiError): Job<R> {
  if (event instanceof ApiError) throw event;
  return event;
}
