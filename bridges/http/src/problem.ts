import { STATUS_CODES } from 'node:http';
import { isIngestError } from '@telly/bridge-core';
import { errorPredicate, type RejectionReason, TellyError, THING_AUTH_SCHEME } from '@telly/schemas';
import type { FastifyReply } from 'fastify';

/** RFC 9457 media type of every error answer. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Why a request was refused: an ingest rejection reason, or one of the HTTP layer's own. */
export type ProblemReason =
  | RejectionReason
  | 'not-found'
  | 'invalid-idempotency-key'
  | 'bad-request'
  | 'internal';

/** An RFC 9457 problem details object, with Telly's stable `reason` code as an extension member. */
export interface Problem {
  type: 'about:blank';
  /** The status phrase, as RFC 9457 §4.2.1 asks for `about:blank`. */
  title: string;
  status: number;
  detail: string;
  reason: ProblemReason;
}

/** A refusal decided by the HTTP layer itself (route, headers), before or beside Ingest. */
export class HttpProblem extends TellyError<ProblemReason> {
  readonly status: number;
  /** Seconds after which a retry may succeed; sent as `Retry-After`. */
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    reason: ProblemReason,
    detail: string,
    options?: ErrorOptions & { retryAfter?: number | undefined },
  ) {
    super(reason, detail, options);
    this.status = status;
    this.retryAfter = options?.retryAfter;
  }

  /** The reason, i.e. the code, under the name the problem document gives it. */
  get reason(): ProblemReason {
    return this.code;
  }
}

/** True when `err` is an {@link HttpProblem} (optionally with the given reason). */
export const isHttpProblem = errorPredicate(HttpProblem);

/** A problem with the status phrase as its title. */
export function problem(status: number, reason: ProblemReason, detail: string): Problem {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, reason };
}

/** Fastify's own errors that a client caused, mapped to the reason a device can act on. */
const FASTIFY_REASONS: Record<string, ProblemReason> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-content-type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported-content-type',
};

/**
 * The problem answering `err`, and the seconds to put in `Retry-After`. Ingest refusals keep their
 * status and reason; anything unexpected becomes a 500 that says nothing about internals.
 */
export function problemOf(err: unknown): { problem: Problem; retryAfter: number | undefined } {
  if (isIngestError(err) || isHttpProblem(err)) {
    return { problem: problem(err.status, err.reason, err.message), retryAfter: err.retryAfter };
  }
  const { statusCode, code, message } = (err ?? {}) as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
  };
  if (
    typeof statusCode === 'number' &&
    statusCode >= 400 &&
    statusCode < 500 &&
    typeof message === 'string'
  ) {
    const reason = (typeof code === 'string' && FASTIFY_REASONS[code]) || 'bad-request';
    return { problem: problem(statusCode, reason, message), retryAfter: undefined };
  }
  return {
    problem: problem(500, 'internal', 'the request could not be processed; see the server log'),
    retryAfter: undefined,
  };
}

/** Sends `problem` as `application/problem+json`, with `Retry-After` and, on 401, the auth scheme. */
export function sendProblem(reply: FastifyReply, problem: Problem, retryAfter?: number): FastifyReply {
  if (retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
  if (problem.status === 401) reply.header('www-authenticate', THING_AUTH_SCHEME);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}
