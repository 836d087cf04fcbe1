import { EventEmitter } from 'node:events';
import { v7 } from 'uuid';
import { InferenceError } from '../errors.ts';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export type JobKind = 'predict' | 'train';

export interface Job<R = unknown> {
  id: string;
  tenantId: string;
  kind: JobKind;
  modelId: string;
  status: JobStatus;
  /** 0..1 while running (training reports it). */
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

type Work<R> = (signal: AbortSignal, progress: (p: number) => void) => Promise<R>;

/**
 * A per-tenant job queue (the seed's workspaces): queued → running → done / failed / cancelled,
 * at most `concurrency` running per tenant, each with a timeout, kept `retentionMs` after it
 * ended. Held by the process that accepted the job (an API instance): a restart forgets them.
 */
export class JobQueue {
  readonly #o: Required<JobQueueOptions>;
  readonly #jobs = new Map<string, { job: Job; work: Work<unknown>; abort: AbortController }>();
  readonly #events = new EventEmitter({ captureRejections: false });
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: JobQueueOptions = {}) {
    this.#o = { ...DEFAULT_JOB_QUEUE, ...options };
    this.#events.setMaxListeners(0);
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(60_000, this.#o.retentionMs)).unref();
  }

  submit<R>(tenantId: string, kind: JobKind, modelId: string, work: Work<R>): Job<R> {
    const open = [...this.#jobs.values()].filter(
      (j) => j.job.tenantId === tenantId && (j.job.status === 'queued' || j.job.status === 'running'),
    ).length;
    if (open >= this.#o.maxQueued) {
      throw new InferenceError(
        'INVALID_INPUT',
        `at most ${this.#o.maxQueued} jobs may be queued or running per tenant`,
      );
    }
    const job: Job<R> = {
      id: v7(),
      tenantId,
      kind,
      modelId,
      status: 'queued',
      progress: 0,
      createdAt: new Date(),
      startedAt: undefined,
      finishedAt: undefined,
      result: undefined,
      error: undefined,
    };
    this.#jobs.set(job.id, { job, work: work as Work<unknown>, abort: new AbortController() });
    this.#emit(job);
    this.#next(tenantId);
    return job;
  }

  /** A job of the tenant (another tenant's id is not found). */
  get(tenantId: string, id: string): Job | undefined {
    const entry = this.#jobs.get(id);
    return entry && entry.job.tenantId === tenantId ? { ...entry.job } : undefined;
  }

  /** Cancels a queued or running job; a finished one stays as it ended. */
  cancel(tenantId: string, id: string): Job | undefined {
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
  watch(id: string, listener: (job: Job) => void): () => void {
    const on = (job: Job) => {
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

  #start(entry: { job: Job; work: Work<unknown>; abort: AbortController }): void {
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

  #finish(job: Job, status: JobStatus, result: unknown, error: string | undefined): void {
    job.status = status;
    job.result = result;
    job.error = error;
    if (status === 'done') job.progress = 1;
    job.finishedAt = new Date();
    this.#emit(job);
  }

  #emit(job: Job): void {
    this.#events.emit('change', job);
  }

  #sweep(): void {
    const before = Date.now() - this.#o.retentionMs;
    for (const [id, { job }] of this.#jobs) {
      if (job.finishedAt && job.finishedAt.getTime() < before) this.#jobs.delete(id);
    }
  }
}
