import { EventEmitter } from 'node:events';
import { v7 } from 'uuid';
import { JobError } from './job-error.ts';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job<R = unknown> {
  id: string;
  tenantId: string;
  /** What the job does, named by its owner (`predict`, `train`, `backtest`). */
  kind: string;
  /** The id of what the job works on (a model, a rule). */
  subjectId: string;
  status: JobStatus;
  /** 0..1 while running, as the work reports it. */
  progress: number;
  createdAt: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  result: R | undefined;
  error: string | undefined;
}

export interface JobQueueOptions {
  /** Jobs of one tenant running at once. @default 2 */
  concurrency?: number;
  /** Jobs of one tenant queued or running at once; more are refused. @default 100 */
  maxQueued?: number;
  /** A running job past this fails with TIMEOUT. @default 60 s */
  timeoutMs?: number;
  /** How long a finished job (and its result) can still be read. @default 1 h */
  retentionMs?: number;
}

export const DEFAULT_JOB_QUEUE = {
  concurrency: 2,
  maxQueued: 100,
  timeoutMs: 60_000,
  retentionMs: 3_600_000,
} as const;

/** A job's body: stops when `signal` aborts, reports its progress (0..1) as it goes. */
export type JobWork<R> = (signal: AbortSignal, progress: (p: number) => void) => Promise<R>;

interface Entry<R> {
  job: Job<R>;
  work: JobWork<R>;
  abort: AbortController;
}

/**
 * A per-tenant job queue (the seed's workspaces): queued → running → done / failed / cancelled,
 * at most `concurrency` running per tenant, each with a timeout, kept `retentionMs` after it
 * ended. Held by the process that accepted the job (an API instance): a restart forgets them.
 * Model predictions and trainings share one; rule backtests have their own (longer timeout).
 */
export class JobQueue<R = unknown> {
  readonly #o: Required<JobQueueOptions>;
  readonly #jobs = new Map<string, Entry<R>>();
  readonly #events = new EventEmitter({ captureRejections: false });
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: JobQueueOptions = {}) {
    this.#o = { ...DEFAULT_JOB_QUEUE, ...options };
    this.#events.setMaxListeners(0);
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(60_000, this.#o.retentionMs)).unref();
  }

  /** Queues `work` as a job of the tenant; throws `QUEUE_FULL` past `maxQueued`. */
  submit(tenantId: string, kind: string, subjectId: string, work: JobWork<R>): Job<R> {
    const open = [...this.#jobs.values()].filter(
      (j) => j.job.tenantId === tenantId && (j.job.status === 'queued' || j.job.status === 'running'),
    ).length;
    if (open >= this.#o.maxQueued) {
      throw new JobError(
        'QUEUE_FULL',
        `at most ${this.#o.maxQueued} jobs may be queued or running per tenant`,
      );
    }
    const job: Job<R> = {
      id: v7(),
      tenantId,
      kind,
      subjectId,
      status: 'queued',
      progress: 0,
      createdAt: new Date(),
      startedAt: undefined,
      finishedAt: undefined,
      result: undefined,
      error: undefined,
    };
    this.#jobs.set(job.id, { job, work, abort: new AbortController() });
    this.#emit(job);
    this.#next(tenantId);
    return job;
  }

  /** A job of the tenant (another tenant's id is not found). */
  get(tenantId: string, id: string): Job<R> | undefined {
    const entry = this.#jobs.get(id);
    return entry && entry.job.tenantId === tenantId ? { ...entry.job } : undefined;
  }

  /** Cancels a queued or running job; a finished one stays as it ended. */
  cancel(tenantId: string, id: string): Job<R> | undefined {
    const entry = this.#jobs.get(id);
    if (!entry || entry.job.tenantId !== tenantId) return undefined;
    if (entry.job.status === 'queued' || entry.job.status === 'running') {
      const wasRunning = entry.job.status === 'running';
      this.#finish(entry.job, 'cancelled', undefined, 'cancelled');
      entry.abort.abort();
      if (wasRunning) this.#next(tenantId);
    }
    return { ...entry.job };
  }

  /** Calls `listener` with each change of the job until the returned function is called. */
  watch(id: string, listener: (job: Job<R>) => void): () => void {
    const on = (job: Job<R>) => {
      if (job.id === id) listener({ ...job });
    };
    this.#events.on('change', on);
    return () => this.#events.off('change', on);
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const { job, abort } of this.#jobs.values()) {
      if (job.status === 'queued' || job.status === 'running') {
        this.#finish(job, 'cancelled', undefined, 'the server stopped');
        abort.abort();
      }
    }
  }

  #next(tenantId: string): void {
    const mine = [...this.#jobs.values()].filter((j) => j.job.tenantId === tenantId);
    let running = mine.filter((j) => j.job.status === 'running').length;
    for (const entry of mine) {
      if (running >= this.#o.concurrency) return;
      if (entry.job.status !== 'queued') continue;
      running++;
      this.#start(entry);
    }
  }

  #start(entry: Entry<R>): void {
    const { job, work, abort } = entry;
    job.status = 'running';
    job.startedAt = new Date();
    this.#emit(job);
    const timer = setTimeout(() => {
      if (job.status !== 'running') return;
      this.#finish(job, 'failed', undefined, `the job took longer than ${this.#o.timeoutMs} ms`);
      abort.abort();
      this.#next(job.tenantId);
    }, this.#o.timeoutMs);
    const progress = (p: number) => {
      if (job.status !== 'running') return;
      job.progress = Math.max(0, Math.min(1, p));
      this.#emit(job);
    };
    work(abort.signal, progress)
      .then(
        (result) => job.status === 'running' && this.#finish(job, 'done', result, undefined),
        (err: unknown) =>
          job.status === 'running' && this.#finish(job, 'failed', undefined, (err as Error).message),
      )
      .finally(() => {
        clearTimeout(timer);
        this.#next(job.tenantId);
      });
  }

  #finish(job: Job<R>, status: JobStatus, result: R | undefined, error: string | undefined): void {
    job.status = status;
    job.result = result;
    job.error = error;
    if (status === 'done') job.progress = 1;
    job.finishedAt = new Date();
    this.#emit(job);
  }

  #emit(job: Job<R>): void {
    this.#events.emit('change', job);
  }

  #sweep(): void {
    const before = Date.now() - this.#o.retentionMs;
    for (const [id, { job }] of this.#jobs) {
      if (job.finishedAt && job.finishedAt.getTime() < before) this.#jobs.delete(id);
    }
  }
}
