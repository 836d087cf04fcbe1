import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createPgPool, type Logger } from '@telly/runtime';
import { isTellyId } from '@telly/schemas';
import {
  type ReplayProgress,
  type ReplayReport,
  replayTelemetry,
  TELEMETRY_PG,
  type VerifyReport,
  verifyTelemetry,
} from '@telly/telemetry-pg';
import { Repeater } from 'graphql-yoga';
import type pg from 'pg';
import { v7 } from 'uuid';
import type { Principal } from '../auth/principal.ts';
import { atLeast } from '../auth/roles.ts';
import { ApiError, invalid } from '../errors.ts';

/** Projections operators can replay and verify. */
export const OPERABLE_PROJECTIONS: readonly string[] = [TELEMETRY_PG];

export interface ProjectionJob {
  id: string;
  projection: string;
  state: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  startedAt: Date;
  finishedAt: Date | undefined;
  progress: ReplayProgress | undefined;
  report: ReplayReport | undefined;
  error: string | undefined;
}

export interface ProjectionOpsDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  pool: pg.Pool;
  logger: Logger;
  /** The tenant whose admins operate the platform (`TELLY_OPERATOR_TENANT`); none: nobody. */
  operatorTenant: string | undefined;
}

/** Job updates travel on NATS, so a subscriber on any API instance follows a job run by another. */
const jobSubject = (id: string) => `telly.ops.jobs.${id}`;
/** Progress is published at most this often (and at every phase change and the end). */
const PROGRESS_EVERY_MS = 500;
/** A running job says it is alive at least this often. */
const HEARTBEAT_MS = 5_000;
/** A finished job is kept for `projectionJob` this long. */
const KEEP_FINISHED_MS = 60 * 60_000;

/**
 * Platform operations: rebuilding a projection from the log and verifying it. They act on
 * every tenant's data, so only admins of the operator tenant may use them.
 */
export class ProjectionOps {
  readonly #deps: ProjectionOpsDeps;
  readonly #jobs = new Map<string, ProjectionJob>();

  constructor(deps: ProjectionOpsDeps) {
    this.#deps = deps;
  }

  /** Throws FORBIDDEN unless `p` is an admin of the operator tenant. */
  authorize(p: Principal): void {
    const { operatorTenant } = this.#deps;
    if (!operatorTenant || p.tenantId !== operatorTenant || !atLeast(p.role, 'admin')) {
      throw new ApiError(
        'FORBIDDEN',
        'platform operations are for admins of the operator tenant (TELLY_OPERATOR_TENANT)',
      );
    }
  }

  /** Starts a rebuild in the background; its job reports progress until it ends. */
  replay(p: Principal, projection: string, from: { seq?: number; time?: Date }): ProjectionJob {
    this.authorize(p);
    checkProjection(projection);
    if (from.seq !== undefined && from.time !== undefined)
      throw invalid('fromTime', 'give fromSeq or fromTime, not both');
    if (from.seq !== undefined && !(Number.isInteger(from.seq) && from.seq >= 1))
      throw invalid('fromSeq', 'must be a stream sequence (a positive integer)');
    const job: ProjectionJob = {
      id: v7(),
      projection,
      state: 'RUNNING',
      startedAt: new Date(),
      finishedAt: undefined,
      progress: undefined,
      report: undefined,
      error: undefined,
    };
    this.#jobs.set(job.id, job);
    let lastSent = 0;
    const send = () => {
      lastSent = Date.now();
      this.#deps.nc.publish(jobSubject(job.id), JSON.stringify(job));
    };
    // a long phase reports nothing for a while: the heartbeat tells watchers the job is alive
    const heartbeat = setInterval(send, HEARTBEAT_MS);
    const { js, logger } = this.#deps;
    // a pool of its own, so a long rebuild never takes the API's connections
    const pool = createPgPool({ ...this.#deps.pool.options, max: 6 }, logger);
    replayTelemetry({
      js,
      pool,
      fromSeq: from.seq,
      fromTime: from.time,
      onProgress: (progress) => {
        const phaseChanged = progress.phase !== job.progress?.phase;
        job.progress = progress;
        if (phaseChanged || Date.now() - lastSent >= PROGRESS_EVERY_MS) send();
      },
    })
      .then(
        (report) => {
          Object.assign(job, { state: 'SUCCEEDED', report, finishedAt: new Date() });
          logger.info({ job: job.id, report }, 'projection replayed');
          send();
        },
        (err: unknown) => {
          Object.assign(job, { state: 'FAILED', error: (err as Error).message, finishedAt: new Date() });
          logger.error({ err, job: job.id }, 'projection replay failed');
          send();
        },
      )
      .finally(() => {
        clearInterval(heartbeat);
        pool.end().catch(() => {});
        setTimeout(() => this.#jobs.delete(job.id), KEEP_FINISHED_MS).unref();
      });
    return job;
  }

  /** A job this instance runs (jobs of other instances are followed by subscription). */
  job(p: Principal, id: string): ProjectionJob | undefined {
    this.authorize(p);
    return this.#jobs.get(id);
  }

  /**
   * The job's updates until it ends: its current state first when this instance runs it; a
   * NOT_FOUND error when no instance reports on it.
   */
  watch(p: Principal, id: string): AsyncIterable<ProjectionJob | ApiError> {
    this.authorize(p);
    const local = this.#jobs.get(id);
    return new Repeater<ProjectionJob | ApiError>(async (push, stop) => {
      // a malformed id names no job (and must not become a wildcard in the subject)
      if (!isTellyId(id)) {
        push(new ApiError('NOT_FOUND', `no job ${id}`)).catch(() => {});
        return stop();
      }
      // no update for this long: no instance runs such a job (any more)
      const sub = this.#deps.nc.subscribe(jobSubject(id), { timeout: 3 * HEARTBEAT_MS });
      stop.then(() => sub.unsubscribe());
      if (local) await push({ ...local });
      if (local && local.state !== 'RUNNING') return stop();
      try {
        for await (const m of sub) {
          const update = m.json<ProjectionJob>();
          await push(update);
          if (update.state !== 'RUNNING') break;
        }
        stop();
      } catch {
        // the last event: the resolver reports it as the subscription's error
        push(new ApiError('NOT_FOUND', 'no API instance is running this job (any more)')).catch(() => {});
        stop();
      }
    });
  }

  verify(p: Principal, projection: string): Promise<VerifyReport> {
    this.authorize(p);
    checkProjection(projection);
    return verifyTelemetry({ js: this.#deps.js, pool: this.#deps.pool, projection });
  }
}

function checkProjection(projection: string): void {
  if (!OPERABLE_PROJECTIONS.includes(projection))
    throw invalid('projection', `must be one of ${OPERABLE_PROJECTIONS.join(', ')}`);
}
