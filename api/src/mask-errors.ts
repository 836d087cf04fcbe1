import type { Logger } from '@telly/runtime';
import { GraphQLError } from 'graphql';
import { v7 } from 'uuid';
import { isApiError, toApiError } from './errors.ts';

/**
 * Yoga's `maskError`: expected failures keep their code and message; parse and validation errors
 * pass as they are; anything else is logged with an id and reaches the client only as that id and
 * the code INTERNAL_SERVER_ERROR (no message, stack or SQL of the cause).
 */
export function maskErrors(logger: Logger) {
  return (error: unknown): Error => {
    if (!(error instanceof GraphQLError)) return unexpected(logger, error);
    const original = error.originalError;
    if (!original || original instanceof GraphQLError) {
      const mapped = original ? toApiError(original) : error;
      if (mapped === error || !isApiError(mapped)) return error;
      return new GraphQLError(mapped.message, { ...located(error), extensions: mapped.extensions });
    }
    const mapped = toApiError(original);
    if (isApiError(mapped))
      return new GraphQLError(mapped.message, { ...located(error), extensions: mapped.extensions });
    return unexpected(logger, original, error);
  };
}

function located(error: GraphQLError) {
  return { nodes: error.nodes, path: error.path, source: error.source, positions: error.positions };
}

function unexpected(logger: Logger, cause: unknown, at?: GraphQLError): GraphQLError {
  const errorId = v7();
  logger.error({ err: cause, errorId, path: at?.path }, 'unexpected error in a GraphQL operation');
  return new GraphQLError('Unexpected error.', {
    ...(at ? located(at) : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR', errorId },
  });
}
