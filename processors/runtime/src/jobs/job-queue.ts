import { EventEmitter } from 'node:events';
import { NoRespondersError, type Subscription, TimeoutError } from '@nats-io/transport-node';
import { v7 } from 'uuid';
import { JobError } from './job-error.ts';
import {
  DEFAULT_JOB_REQUEST_TIMEOUT_MS,
  decodeJob,
  encodeJob,
  type JobOp,
  type JobQueuePeer,
  type JobWire,
  jobSubject,
  parseJobSubject,
} from './job-peer.ts';

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
  /** The queue's other instances: with it, any instance answers for a job any of them holds. */
  peer?: JobQueuePeer | undefined;
}

export const DEFAULT_JOB_QUEUE = {
  concurrency: 2,
  maxQueued: 100,
  timeoutMs: 60_000,
  retentionMs: 3_600_000,
} as const;

/** Calls with the job as it is (undefined: the tenant has no such job), then with each change. */
export type JobListener<R> = (job: Job<R> | undefined) => void;

/** A job's body: stops when `signal` aborts, reports its progress (0..1) as it goes. */
export type JobWork<R> = (signal: AbortSignal, progress: (p: number) => void) => Promise<R>;

interface Entry<R> {
  job: Job<R>;
  work: JobWork<R>;
  abort: AbortController;
  /** Counts the job's changes: orders what watchers on other instances receive. */
  revision: number;
}

/** How often a watch of a job another instance holds asks whether it is still held. */
export const WATCH_LIVENESS_MS = 5_000;

/**
 * A per-tenant job queue (the seed's workspaces): queued → running → done / failed / cancelled,
 * at most `concurrency` running per tenant, each with a timeout, kept `retentionMs` after it
 * ended. A job runs in the process that accepted it (an API instance), and a restart of it fails
 * the job; with a `peer`, every instance of the queue reads, follows and cancels it.
 * Model predictions and trainings share one; rule backtests have their own (longer timeout).
 */
export class JobQueue<R = unknown> {
  readonly #o: Required<Omit<JobQueueOptions, 'peer'>>;
  readonly #peer: JobQueuePeer | undefined;
  readonly #jobs = new Map<string, Entry<R>>();
  readonly #events = new EventEmitter({ captureRejections: false });
  readonly #sweeper: NodeJS.Timeout;
  readonly #answering: Subscription[] = [];

  constructor({ peer, ...options }: JobQueueOptions = {}) {
    this.#o = { ...DEFAULT_JOB_QUEUE, ...options };
    this.#peer = peer;
    this.#events.setMaxListeners(0);
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(60_000, this.#o.retentionMs)).unref();
    if (peer) {
      this.#answer(peer, 'get', (entry) => entry.job);
      this.#answer(peer, 'cancel', (entry) => this.#cancel(entry));
    }
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
    this.#jobs.set(job.id, { job, work, abort: new AbortController(), revision: 0 });
    this.#emit(job);
    this.#next(tenantId);
    return job;
  }

  /** A job of the tenant, held here or by a peer (another tenant's id is not found). */
  async get(tenantId: string, id: string): Promise<Job<R> | undefined> {
    const entry = this.#entry(tenantId, id);
    if (entry) return { ...entry.job };
    return (await this.#request('get', tenantId, id))?.job;
  }

  /** Cancels a queued or running job, here or at a peer; a finished one stays as it ended. */
  async cancel(tenantId: string, id: string): Promise<Job<R> | undefined> {
    const entry = this.#entry(tenantId, id);
    if (entry) return { ...this.#cancel(entry) };
    return (await this.#request('cancel', tenantId, id))?.job;
  }

  /**
   * Calls `listener` with the tenant's job as it is now (undefined: no such job, after a
   * peer's silence when it is not held here), then with each change of it, until the returned
   * function is called.
   */
  watch(tenantId: string, id: string, listener: JobListener<R>): () => void {
    const entry = this.#entry(tenantId, id);
    if (entry) {
      const on = (job: Job<R>) => {
        if (job.id === id) listener({ ...job });
      };
      this.#events.on('change', on);
      listener({ ...entry.job });
      return () => this.#events.off('change', on);
    }
    const subject = this.#peer && jobSubject(this.#peer.subjectPrefix, 'changed', tenantId, id);
    if (!this.#peer || !subject) {
      queueMicrotask(() => listener(undefined));
      return () => {};
    }
    // subscribed before asking: no change falls between the answer and the first update
    let seen = -1;
    let stopped = false;
    let last: Job<R> | undefined;
    const deliver = (wire: JobWire<R>) => {
      if (stopped || wire.revision <= seen) return;
      seen = wire.revision;
      last = wire.job;
      listener(wire.job);
    };
    // the instance holding the job may die without a word: asked again now and then, no answer
    // while the job had not ended ends the watch as "no such job"
    const alive = setInterval(() => {
      if (stopped || seen < 0 || (last && last.status !== 'queued' && last.status !== 'running')) return;
      this.#request('get', tenantId, id).then(
        (wire) => {
          if (stopped) return;
          if (wire) return deliver(wire);
          stop();
          listener(undefined);
        },
        () => {},
      );
    }, WATCH_LIVENESS_MS);
    alive.unref();
    const stop = () => {
      stopped = true;
      clearInterval(alive);
      sub.unsubscribe();
    };
    const sub = this.#peer.nc.subscribe(subject, {
      callback: (err, m) => {
        if (!err) deliver(decodeJob<R>(m.string()));
      },
    });
    this.#request('get', tenantId, id).then(
      (wire) => {
        if (wire) deliver(wire);
        else if (seen < 0 && !stopped) listener(undefined);
      },
      () => !stopped && seen < 0 && listener(undefined),
    );
    return stop;
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const sub of this.#answering.splice(0)) sub.unsubscribe();
    for (const { job, abort } of this.#jobs.values()) {
      if (job.status === 'queued' || job.status === 'running') {
        this.#finish(job, 'cancelled', undefined, 'the server stopped');
        abort.abort();
      }
    }
  }

  #entry(tenantId: string, id: string): Entry<R> | undefined {
    const entry = this.#jobs.get(id);
    return entry && entry.job.tenantId === tenantId ? entry : undefined;
  }

  #cancel(entry: Entry<R>): Job<R> {
    const { job } = entry;
    if (job.status === 'queued' || job.status === 'running') {
      const wasRunning = job.status === 'running';
      this.#finish(job, 'cancelled', undefined, 'cancelled');
      entry.abort.abort();
      if (wasRunning) this.#next(job.tenantId);
    }
    return job;
  }

  /**
   * Answers `<prefix>.<op>.<tenant>.<job>` for the jobs held here, the tenant by the subject
   * and by the job's own; silent otherwise (another instance may hold it).
   */
  #answer(peer: JobQueuePeer, op: JobOp, act: (entry: Entry<R>) => Job<R>): void {
    const prefix = `${peer.subjectPrefix}.${op}`;
    const sub = peer.nc.subscribe(`${prefix}.*.*`, {
      callback: (err, m) => {
        const named = err ? undefined : parseJobSubject(peer.subjectPrefix, m.subject);
        const entry = named && this.#entry(named.tenantId, named.id);
        if (!entry) return;
        const job = act(entry);
        m.respond(encodeJob(entry.revision, job));
      },
    });
    this.#answering.push(sub);
  }

  /** A peer's answer for a job not held here; none within the timeout: no such job. */
  async #request(op: JobOp, tenantId: string, id: string): Promise<JobWire<R> | undefined> {
    const subject = this.#peer && jobSubject(this.#peer.subjectPrefix, op, tenantId, id);
    if (!this.#peer || !subject) return undefined;
    try {
      const m = await this.#peer.nc.request(subject, '', {
        timeout: this.#peer.requestTimeoutMs ?? DEFAULT_JOB_REQUEST_TIMEOUT_MS,
      });
      return decodeJob<R>(m.string());
    } catch (err) {
      const cause = (err as Error).cause;
      if (err instanceof TimeoutError || cause instanceof TimeoutError || cause instanceof NoRespondersError)
        return undefined;
      throw err;
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
    const entry = this.#jobs.get(job.id);
    const revision = entry ? ++entry.revision : 0;
    this.#events.emit('change', job);
    const peer = this.#peer;
    const subject = peer && jobSubject(peer.subjectPrefix, 'changed', job.tenantId, job.id);
    // a connection already closing takes no more (a queue closed after it: nobody to tell)
    if (peer && subject && !peer.nc.isClosed() && !peer.nc.isDraining())
      peer.nc.publish(subject, encodeJob(revision, job));
  }

  #sweep(): void {
    const before = Date.now() - this.#o.retentionMs;
    for (const [id, { job }] of this.#jobs) {
      if (job.finishedAt && job.finishedAt.getTime() < before) this.#jobs.delete(id);
    }
  }
}
