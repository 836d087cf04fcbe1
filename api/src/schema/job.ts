import type { Job } from '@telly/runtime';
import { builder } from '../builder.ts';

/** Where a job of a tenant's queue is (the model queue's and the backtests'). */
export const JobStatus = builder.enumType('JobStatus', {
  description: 'QUEUED → RUNNING → DONE / FAILED / CANCELLED.',
  values: ['QUEUED', 'RUNNING', 'DONE', 'FAILED', 'CANCELLED'] as const,
});

/** The GraphQL value of a job's status. */
export const jobStatusOf = (job: Job) => job.status.toUpperCase() as Uppercase<Job['status']>;
