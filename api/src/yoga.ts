import type { Logger } from '@telly/runtime';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { v7 } from 'uuid';
import type { Authenticator } from './auth/authenticate.ts';
import type { Context, Services } from './builder.ts';
import { ApiError, isApiError, toApiError } from './errors.ts';
import { schema } from './schema/index.ts';

export const GRAPHQL_PATH = '/graphql';

/**
 * Expected failures keep their code and message; parse and validation errors pass as they are;
 * anything else is logged with an id and reaches the client only as that id and a code.
 */
function maskError(logger: Logger) {
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

export function createGraphqlApp(options: {
  services: Services;
  authenticator: Authenticator;
  logger: Logger;
}) {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    logging: {
      debug: () => {},
      info: () => {},
      warn: (...args) => options.logger.warn({ args }, 'graphql-yoga'),
      // expected failures (with a code) were answered to the client; only the rest is an error here
      error: (...args) =>
        args.every((a) => a instanceof GraphQLError && a.extensions.code !== 'INTERNAL_SERVER_ERROR')
          ? options.logger.debug({ args }, 'graphql-yoga')
          : options.logger.error({ args }, 'graphql-yoga'),
    },
    maskedErrors: { maskError: maskError(options.logger) },
    context: async (init) => {
      const authorization = authorizationOf(init);
      const principal = await options.authenticator.authenticate(authorization).catch((err) => {
        throw toApiError(err);
      });
      return {
        principal,
        services: options.services,
        recheck: async () => {
          const now = await options.authenticator.authenticate(authorization).catch((err) => {
            throw toApiError(err);
          });
          if (!now || now.tenantId !== principal?.tenantId || now.id !== principal.id)
            throw new ApiError('UNAUTHENTICATED', 'the credentials of this subscription no longer hold');
        },
      };
    },
  });
}

/**
 * The caller's Authorization: the HTTP header (queries, mutations, SSE), or for graphql-ws the
 * `authorization` connection parameter, falling back to the upgrade request's header.
 */
function authorizationOf(init: {
  request?: Request;
  connectionParams?: Readonly<Record<string, unknown>>;
  extra?: { request?: { headers: Record<string, string | string[] | undefined> } };
}): string | undefined {
  if (init.request) return init.request.headers.get('authorization') ?? undefined;
  const param = init.connectionParams?.authorization ?? init.connectionParams?.Authorization;
  if (typeof param === 'string') return param;
  const header = init.extra?.request?.headers.authorization;
  return typeof header === 'string' ? header : undefined;
}
