import { errorPredicate, TellyError } from '@telly/schemas';

/**
 * - `QUEUE_FULL`: the tenant has as many jobs queued or running as the queue takes.
 */
export type JobErrorCode = 'QUEUE_FULL';

export class JobError extends TellyError<JobErrorCode> {}

export const isJobError = errorPredicate(JobError);
