import { DEFAULT_MAX_MODEL_BYTES } from '@telly/inference';
import type { Logger } from '@telly/runtime';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Authenticator } from './auth/authenticate.ts';
import type { SigningKey } from './auth/signing-key.ts';
import type { Throttle } from './auth/throttle.ts';
import type { Context, Services } from './builder.ts';
import { contextFactory } from './context.ts';
import { maskErrors } from './mask-errors.ts';
import { useBodyLimit } from './plugins/body-limit.ts';
import { useBootstrap } from './plugins/bootstrap.ts';
import { useCsvExport } from './plugins/csv-export.ts';
import { GRAPHIQL_OPTIONS, renderGraphiql, useGraphiqlAssets } from './plugins/graphiql.ts';
import { useGraphqlLimits } from './plugins/graphql-limits.ts';
import { useJwks } from './plugins/jwks.ts';
import { useTfServing } from './plugins/tf-serving.ts';
import { parseWebUiConfig, useWebUi, type WebUiConfig } from './plugins/web-ui.ts';
import { schema } from './schema/index.ts';

export const GRAPHQL_PATH = '/graphql';

/** The API as one fetch handler: GraphQL (HTTP and SSE) and the plain routes beside it. */
export type GraphqlApp = YogaServerInstance<Record<string, unknown>, Context>;

export interface GraphqlAppOptions {
  services: Services;
  authenticator: Authenticator;
  /** Published at `/.well-known/jwks.json`. */
  signingKeys: readonly SigningKey[];
  logger: Logger;
  /** External-key attempts at the bootstrap route. */
  bootstrapThrottle: Throttle;
  /** Behind `telly up`'s proxy: the client address is its `X-Forwarded-For` (client-address.ts). */
  trustProxy: boolean;
  /** @default MAX_REQUEST_BYTES */
  maxRequestBytes?: number | undefined;
  /** The largest model file a multipart upload may carry. @default DEFAULT_MAX_MODEL_BYTES */
  maxModelBytes?: number | undefined;
  /** The web dashboard at `/`. @default its build in this repository, the default device ports */
  webUi?: WebUiConfig | undefined;
}

/**
 * The yoga app: the schema with its context and error masking, and as plugins the body limit
 * (first: nothing reads a body before it), the bootstrap route, the CSV export, the JWKS,
 * GraphiQL's assets, the web dashboard at `/` and the limits on an operation's shape.
 * No socket: `server.ts` serves it, tests call `app.fetch`.
 */
export function createGraphqlApp(options: GraphqlAppOptions): GraphqlApp {
  const { services, authenticator, logger } = options;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // yoga answers any URL that ends with this before the routes' plugins run: keep it under the
    // GraphQL path so that e.g. a device whose external id is "health" still gets its bootstrap
    healthCheckEndpoint: `${GRAPHQL_PATH}/health`,
    landingPage: false,
    // GraphiQL at GET /graphql (accept: text/html), its assets served by the API (offline too)
    graphiql: { ...GRAPHIQL_OPTIONS, endpoint: GRAPHQL_PATH },
    renderGraphiQL: renderGraphiql(GRAPHQL_PATH),
    // one operation per request: a batch would multiply every per-operation limit
    batching: false,
    logging: {
      debug: () => {},
      info: () => {},
      warn: (...args) => logger.warn({ args }, 'graphql-yoga'),
      // expected failures (with a code) were answered to the client; only the rest is an error here
      error: (...args) =>
        args.every((a) => a instanceof GraphQLError && a.extensions.code !== 'INTERNAL_SERVER_ERROR')
          ? logger.debug({ args }, 'graphql-yoga')
          : logger.error({ args }, 'graphql-yoga'),
    },
    maskedErrors: { maskError: maskErrors(logger) },
    context: contextFactory(services, authenticator, options.trustProxy),
    plugins: [
      useBodyLimit({
        limit: options.maxRequestBytes,
        uploadLimit: options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES,
        uploadPath: GRAPHQL_PATH,
      }),
      useBootstrap(services.registry, options.bootstrapThrottle, options.trustProxy, logger),
      useCsvExport(authenticator, services.telemetry, logger),
      useTfServing(authenticator, services.models, logger),
      useJwks(options.signingKeys),
      useGraphiqlAssets(GRAPHQL_PATH),
      useWebUi(options.webUi ?? parseWebUiConfig({})),
      useGraphqlLimits(),
    ],
  });
}
