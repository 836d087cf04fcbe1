import type { IncomingMessage } from 'node:http';
import type { YogaInitialContext } from 'graphql-yoga';
import type { Authenticator } from './auth/authenticate.ts';
import type { Context, Services } from './builder.ts';
import { clientAddress } from './client-address.ts';
import { ApiError, toApiError } from './errors.ts';

/** What yoga and graphql-ws hand the context factory. */
type ContextInit = Partial<YogaInitialContext> & {
  connectionParams?: Readonly<Record<string, unknown>>;
  /** node:http's request, when yoga is served by it. */
  req?: IncomingMessage;
  extra?: { request?: IncomingMessage };
};

/**
 * The context of each operation: the caller (anonymous when no credentials are sent; refused
 * credentials fail the operation), the services, and how long-lived operations re-check the caller.
 */
export function contextFactory(services: Services, authenticator: Authenticator, trustProxy = false) {
  const authenticate = (authorization: string | undefined) =>
    authenticator.authenticate(authorization).catch((err: unknown) => {
      throw toApiError(err);
    });
  return async (init: ContextInit): Promise<Context> => {
    const authorization = authorizationOf(init);
    const principal = await authenticate(authorization);
    return {
      principal,
      services,
      clientAddress: clientAddress(init.req ?? init.extra?.request, trustProxy),
      recheck: async () => {
        const now = await authenticate(authorization);
        if (!now || now.tenantId !== principal?.tenantId || now.id !== principal.id)
          throw new ApiError('UNAUTHENTICATED', 'the credentials of this subscription no longer hold');
      },
    };
  };
}

/**
 * The caller's Authorization: the HTTP header (queries, mutations, SSE), or for graphql-ws the
 * `authorization` connection parameter, falling back to the upgrade request's header.
 */
function authorizationOf(init: ContextInit): string | undefined {
  if (init.request) return init.request.headers.get('authorization') ?? undefined;
  const param = init.connectionParams?.authorization ?? init.connectionParams?.Authorization;
  if (typeof param === 'string') return param;
  const header = init.extra?.request?.headers.authorization;
  return typeof header === 'string' ? header : undefined;
}
