import { isRegistryError, ProjectionTimeoutError } from '@telly/registry';
import { isJobError, isPublishError } from '@telly/runtime';
import { errorPredicate } from '@telly/schemas';
import { GraphQLError } from 'graphql';
import { isTokenError } from './auth/token-error.ts';

/**
 * Expected failures, each with a stable `code` that clients branch on (as `extensions.code` in
 * GraphQL, `code` in problem+json). Anything else is masked as INTERNAL_SERVER_ERROR.
 */
export type ApiErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION_FAILED'
  | 'WEAK_PASSWORD'
  | 'EMAIL_TAKEN'
  | 'EXTERNAL_ID_TAKEN'
  | 'INVALID_CREDENTIALS'
  | 'TOO_MANY_ATTEMPTS'
  | 'TOKEN_EXPIRED'
  | 'INVALID_REFRESH_TOKEN'
  | 'REFRESH_TOKEN_REUSED'
  | 'CONFLICT'
  | 'NOT_ALLOWED'
  | 'UNAVAILABLE'
  | 'TOO_MANY_SUBSCRIPTIONS'
  | 'SLOW_CONSUMER'
  | 'QUERY_TOO_DEEP'
  | 'TOO_MANY_ALIASES'
  | 'QUERY_TOO_LARGE'
  | 'TOO_MANY_DIRECTIVES'
  | 'QUERY_TOO_COMPLEX';

export const HTTP_STATUS: Record<ApiErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  VALIDATION_FAILED: 400,
  WEAK_PASSWORD: 400,
  EMAIL_TAKEN: 409,
  EXTERNAL_ID_TAKEN: 409,
  INVALID_CREDENTIALS: 401,
  TOO_MANY_ATTEMPTS: 429,
  TOKEN_EXPIRED: 401,
  INVALID_REFRESH_TOKEN: 401,
  REFRESH_TOKEN_REUSED: 401,
  CONFLICT: 409,
  NOT_ALLOWED: 409,
  UNAVAILABLE: 503,
  TOO_MANY_SUBSCRIPTIONS: 429,
  SLOW_CONSUMER: 409,
  QUERY_TOO_DEEP: 400,
  TOO_MANY_ALIASES: 400,
  QUERY_TOO_LARGE: 400,
  TOO_MANY_DIRECTIVES: 400,
  QUERY_TOO_COMPLEX: 400,
};

export class ApiError extends GraphQLError {
  readonly code: ApiErrorCode;
  readonly status: number;

  constructor(
    code: ApiErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, {
      extensions: { code, ...details },
      ...(options?.cause instanceof Error ? { originalError: options.cause } : {}),
    });
    this.code = code;
    this.status = HTTP_STATUS[code];
  }
}

/** True when `err` is an {@link ApiError} (optionally with the given code). */
export const isApiError = errorPredicate(ApiError);

export const notFound = (what: string, id: string) => new ApiError('NOT_FOUND', `${what} ${id} not found`);

/** One invalid input field; `field` is the path of the argument (e.g. `input.name`). */
export const invalid = (field: string, message: string) =>
  new ApiError('VALIDATION_FAILED', `${field}: ${message}`, { field });

/** Maps typed errors of the layers below to API errors, once, at the edge. */
export function toApiError(err: unknown): unknown {
  if (isApiError(err)) return err;
  if (isRegistryError(err)) {
    switch (err.code) {
      case 'NOT_FOUND':
        return new ApiError('NOT_FOUND', err.message);
      case 'ALREADY_EXISTS':
      case 'CONFLICT':
        return new ApiError('CONFLICT', err.message);
      case 'TAKEN':
        return new ApiError('CONFLICT', err.message);
      case 'NOT_ALLOWED':
        return new ApiError('NOT_ALLOWED', err.message);
    }
  }
  if (err instanceof ProjectionTimeoutError) {
    return new ApiError(
      'UNAVAILABLE',
      'the change is recorded but the read model is behind; retry the query shortly',
      {},
      { cause: err },
    );
  }
  if (isPublishError(err) && err.code === 'UNAVAILABLE') {
    return new ApiError(
      'UNAVAILABLE',
      'the event log is unavailable; nothing was changed, retry later',
      {},
      { cause: err },
    );
  }
  if (isJobError(err, 'QUEUE_FULL')) return new ApiError('NOT_ALLOWED', err.message);
  if (isTokenError(err)) {
    return err.code === 'TOKEN_EXPIRED'
      ? new ApiError('TOKEN_EXPIRED', err.message)
      : new ApiError('UNAUTHENTICATED', err.message);
  }
  return err;
}
