import type { NatsConnection } from '@nats-io/transport-node';
import { isTellyId } from '@telly/schemas';
import type { Job } from './job-queue.ts';

/**
 * The other instances of a queue (the API instances behind one load balancer), on core NATS:
 * the instance holding a job answers `<prefix>.get.<tenant>.<job>` and
 * `<prefix>.cancel.<tenant>.<job>` and publishes each change on `<prefix>.changed.<tenant>.<job>`.
 */
export interface JobQueuePeer {
  nc: NatsConnection;
  /** The queue's subjects, the same on every instance (e.g. `telly.jobs.models`). */
  subjectPrefix: string;
  /** How long a request waits for the instance holding the job; no answer: no such job. @default 500 ms */
  requestTimeoutMs?: number;
}

export const DEFAULT_JOB_REQUEST_TIMEOUT_MS = 500;

export type JobOp = 'get' | 'cancel' | 'changed';

/**
 * A job's subject, or undefined when the tenant or job id is not a Telly id: an id a user
 * typed names no job, and must never become a wildcard (or an extra token) of a subject.
 */
export function jobSubject(prefix: string, op: JobOp, tenantId: string, id: string): string | undefined {
  return isTellyId(tenantId) && isTellyId(id) ? `${prefix}.${op}.${tenantId}.${id}` : undefined;
}

/** The tenant and job a request subject names (`<prefix>.<op>.<tenant>.<job>`). */
export function parseJobSubject(
  prefix: string,
  subject: string,
): { tenantId: string; id: string } | undefined {
  const [tenantId, id, ...rest] = subject
    .slice(prefix.length + 1)
    .split('.')
    .slice(1);
  return tenantId && id && rest.length === 0 ? { tenantId, id } : undefined;
}

/**
 * A job on the wire: its record (dates as ISO strings, JSON drops what is undefined) and its
 * revision, which orders the answer to a `get` among the changes a watcher already saw.
 */
export interface JobWire<R> {
  revision: number;
  job: Job<R>;
}

export const encodeJob = <R>(revision: number, job: Job<R>): string => JSON.stringify({ revision, job });

/** The job as it was sent: its dates revived, what JSON dropped undefined again. */
export function decodeJob<R>(data: string): JobWire<R> {
  const { revision, job } = JSON.parse(data) as { revision: number; job: Record<string, unknown> };
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : undefined);
  return {
    revision,
    job: {
      ...(job as unknown as Job<R>),
      createdAt: new Date(job.createdAt as string),
      startedAt: date(job.startedAt),
      finishedAt: date(job.finishedAt),
      result: job.result as R | undefined,
      error: job.error as string | undefined,
    },
  };
}
