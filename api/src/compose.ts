import type { Server } from 'node:http';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeviceStatusQueries } from '@telly/devices';
import { ModelCatalog } from '@telly/inference';
import { ProjectionWaiter, RegistryStore } from '@telly/registry';
import { DeadLetterQueue, type Logger, Publisher } from '@telly/runtime';
import type pg from 'pg';
import { Authenticator } from './auth/authenticate.ts';
import { createOidcVerifier, parseOidcProviders } from './auth/oidc.ts';
import { Revocations } from './auth/revocations.ts';
import { Sessions } from './auth/sessions.ts';
import { loadSigningKey, type SigningKey } from './auth/signing-key.ts';
import { BOOTSTRAP_LIMITS, LOGIN_LIMITS, SIGNUP_LIMITS, Throttle } from './auth/throttle.ts';
import type { Services } from './builder.ts';
import type { ApiConfig } from './config.ts';
import { serveApp } from './server.ts';
import { AlertService } from './services/alert-service.ts';
import { AuthService } from './services/auth-service.ts';
import { CommandService } from './services/command-service.ts';
import { KafkaService } from './services/kafka-service.ts';
import { ModelService } from './services/model-service.ts';
import { ProjectionOps } from './services/projection-ops.ts';
import { RegistryQueries } from './services/queries.ts';
import { RegistryService } from './services/registry-service.ts';
import { RuleService } from './services/rule-service.ts';
import { TelemetryFeed, type TelemetryFeedOptions } from './services/telemetry-feed.ts';
import { TelemetryService } from './services/telemetry-service.ts';
import { createGraphqlApp, type GraphqlApp } from './yoga.ts';

export interface ApiDeps {
  config: Pick<
    ApiConfig,
    'issuer' | 'audience' | 'jwtPrivateKey' | 'jwtKeyFile' | 'oidcProviders' | 'operatorTenant'
  > &
    Partial<Pick<ApiConfig, 'trustProxy' | 'webUi' | 'maxRulesPerTenant' | 'maxModelBytes'>>;
  nc: NatsConnection;
  /** The API's tables, the registry's read model, commands and telemetry, migrated by their owners. */
  pool: pg.Pool;
  logger: Logger;
  /** Limits of live subscriptions. */
  feed?: TelemetryFeedOptions | undefined;
}

/** The services and what authenticates callers, built from the connections and the config. */
export interface Composition {
  services: Services;
  authenticator: Authenticator;
  signingKey: SigningKey;
  /** External-key attempts at the bootstrap route. */
  bootstrapThrottle: Throttle;
  /** Stops what the services run in the background. */
  close(): Promise<void>;
}

/** The composition root: the one place that knows which class implements each service. */
export async function composeServices(deps: ApiDeps): Promise<Composition> {
  const { config, nc, pool, logger } = deps;
  const signingKey = await loadSigningKey({ privateJwk: config.jwtPrivateKey, file: config.jwtKeyFile });
  const providers = parseOidcProviders(config.oidcProviders);
  const sessions = new Sessions(pool);
  const authenticator = new Authenticator({
    pool,
    sessions,
    signingKey,
    issuer: config.issuer,
    audience: config.audience,
    oidc: providers.length > 0 ? createOidcVerifier(providers) : undefined,
  });
  const revocations = new Revocations(nc, logger);
  // registered first: a notice drops cached credentials before subscriptions re-check
  revocations.onAnyTenant(() => authenticator.forgetAll());
  await revocations.listen();
  const js = jetstream(nc);
  const waiter = new ProjectionWaiter(pool);
  const jsm = await jetstreamManager(nc);
  const store = new RegistryStore(js, jsm);
  const registry = new RegistryService(store, waiter, pool);
  const catalog = new ModelCatalog();
  await catalog.follow(js, logger);
  const telemetry = new TelemetryService(pool);
  const models = new ModelService({
    nc,
    js,
    store,
    catalog,
    queries: new RegistryQueries(pool),
    telemetry,
    logger,
    maxModelBytes: config.maxModelBytes,
  });
  const services: Services = {
    registry,
    queries: new RegistryQueries(pool),
    revocations,
    commands: new CommandService(new Publisher(js), pool),
    telemetry,
    feed: new TelemetryFeed(js, logger, deps.feed),
    ops: new ProjectionOps({ nc, js, pool, logger, operatorTenant: config.operatorTenant }),
    devices: new DeviceStatusQueries(pool),
    deadLetters: new DeadLetterQueue(nc),
    rules: new RuleService(store, pool, nc, js, { maxRulesPerTenant: config.maxRulesPerTenant }),
    alerts: new AlertService(pool, new Publisher(js), js, logger),
    models,
    kafka: new KafkaService(store, jsm, async (tenantId, channelId) =>
      Boolean(await new RegistryQueries(pool).channel(tenantId, channelId)),
    ),
    auth: new AuthService({
      pool,
      registry,
      sessions,
      revocations,
      throttles: {
        login: new Throttle(pool, 'login', LOGIN_LIMITS),
        signup: new Throttle(pool, 'signup', SIGNUP_LIMITS),
      },
      authenticator,
      signingKey,
      issuer: config.issuer,
      audience: config.audience,
    }),
  };
  const bootstrapThrottle = new Throttle(pool, 'bootstrap', BOOTSTRAP_LIMITS);
  return {
    services,
    authenticator,
    signingKey,
    bootstrapThrottle,
    close: async () => {
      revocations.close();
      await waiter.close();
      catalog.stop();
      await models.close();
      services.rules.close();
    },
  };
}

export interface Api {
  /** The app without a socket: `app.fetch(request)` answers exactly as the server would. */
  app: GraphqlApp;
  server: Server;
  services: Services;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * The API (not yet listening): services, the yoga app with its plugins, and the node:http server
 * with graphql-ws. It runs no migrations: `telly migrate` and the component run each package's own.
 */
export async function createApi(deps: ApiDeps): Promise<Api> {
  const composed = await composeServices(deps);
  const app = createGraphqlApp({
    services: composed.services,
    authenticator: composed.authenticator,
    signingKeys: [composed.signingKey],
    bootstrapThrottle: composed.bootstrapThrottle,
    trustProxy: deps.config.trustProxy ?? false,
    maxModelBytes: deps.config.maxModelBytes,
    webUi: deps.config.webUi,
    logger: deps.logger,
  });
  const served = serveApp(app, deps.logger);
  return {
    app,
    server: served.server,
    services: composed.services,
    listen: served.listen,
    async close() {
      await served.close();
      await composed.close();
    },
  };
}
