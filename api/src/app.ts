import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { migrateCommands } from '@telly/commands';
import { migrateRegistry, ProjectionWaiter, RegistryStore } from '@telly/registry';
import { type Logger, Publisher } from '@telly/runtime';
import { migrateTelemetry } from '@telly/telemetry-pg';
import type pg from 'pg';
import { Authenticator } from './auth/authenticate.ts';
import { LoginThrottle } from './auth/login-throttle.ts';
import { createOidcVerifier, parseOidcProviders } from './auth/oidc.ts';
import { Sessions } from './auth/sessions.ts';
import { jwks, loadSigningKey } from './auth/signing-key.ts';
import { BOOTSTRAP_PATH, handleBootstrap, sendProblem } from './bootstrap-route.ts';
import type { Services } from './builder.ts';
import type { ApiConfig } from './config.ts';
import { EXPORT_PATH, handleExport } from './export-route.ts';
import { serveGraphqlWs } from './graphql-ws.ts';
import { migrateApi } from './migrations.ts';
import { AuthService } from './services/auth-service.ts';
import { CommandService } from './services/command-service.ts';
import { ProjectionOps } from './services/projection-ops.ts';
import { RegistryQueries } from './services/queries.ts';
import { RegistryService } from './services/registry-service.ts';
import { TelemetryFeed, type TelemetryFeedOptions } from './services/telemetry-feed.ts';
import { TelemetryService } from './services/telemetry-service.ts';
import { createGraphqlApp } from './yoga.ts';

/** Requests larger than this are refused with 413 before they are parsed. @default 1 MiB */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export interface ApiDeps {
  config: Pick<
    ApiConfig,
    'issuer' | 'audience' | 'jwtPrivateKey' | 'jwtKeyFile' | 'oidcProviders' | 'operatorTenant'
  >;
  nc: NatsConnection;
  pool: pg.Pool;
  logger: Logger;
  /** Limits of live subscriptions. */
  feed?: TelemetryFeedOptions | undefined;
}

export interface Api {
  server: Server;
  services: Services;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** The API as an HTTP server (not yet listening): GraphQL, bootstrap and the JWKS. */
export async function createApi(deps: ApiDeps): Promise<Api> {
  const { config, nc, pool, logger } = deps;
  await migrateRegistry(pool);
  await migrateApi(pool);
  await migrateCommands(pool);
  await migrateTelemetry(pool);
  const signingKey = await loadSigningKey({ privateJwk: config.jwtPrivateKey, file: config.jwtKeyFile });
  const providers = parseOidcProviders(config.oidcProviders);
  const oidc = providers.length > 0 ? createOidcVerifier(providers) : undefined;
  const sessions = new Sessions(pool);
  const authenticator = new Authenticator({
    pool,
    sessions,
    signingKey,
    issuer: config.issuer,
    audience: config.audience,
    oidc,
  });
  const waiter = new ProjectionWaiter(pool);
  const registry = new RegistryService(
    new RegistryStore(jetstream(nc), await jetstreamManager(nc)),
    waiter,
    pool,
  );
  const services: Services = {
    registry,
    queries: new RegistryQueries(pool),
    commands: new CommandService(new Publisher(jetstream(nc)), pool),
    telemetry: new TelemetryService(pool),
    feed: new TelemetryFeed(jetstream(nc), logger, deps.feed),
    ops: new ProjectionOps({ nc, js: jetstream(nc), pool, logger, operatorTenant: config.operatorTenant }),
    auth: new AuthService({
      pool,
      registry,
      sessions,
      throttle: new LoginThrottle(pool),
      authenticator,
      signingKey,
      issuer: config.issuer,
      audience: config.audience,
    }),
  };
  const yoga = createGraphqlApp({ services, authenticator, logger });
  const jwksBody = JSON.stringify(jwks([signingKey]));

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_REQUEST_BYTES) {
      return sendProblem(res, 413, 'Content Too Large', `requests are limited to ${MAX_REQUEST_BYTES} bytes`);
    }
    const bootstrap = BOOTSTRAP_PATH.exec(url.split('?')[0] ?? '');
    if (bootstrap?.[1]) {
      handleBootstrap(registry, req, res, bootstrap[1]).catch((err: unknown) => {
        logger.error({ err }, 'bootstrap failed');
        if (!res.headersSent)
          sendProblem(res, 500, 'Internal Server Error', 'bootstrap failed; see the server log');
      });
      return;
    }
    if ((url.split('?')[0] ?? '') === EXPORT_PATH) {
      handleExport(authenticator, services.telemetry, req, res).catch((err: unknown) => {
        logger.error({ err }, 'export failed');
        if (!res.headersSent)
          sendProblem(res, 500, 'Internal Server Error', 'export failed; see the server log');
      });
      return;
    }
    if (url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(jwksBody);
      return;
    }
    yoga(req, res);
  });
  const graphqlWs = serveGraphqlWs(server, yoga, logger);

  return {
    server,
    services,
    listen: (port, host = '0.0.0.0') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    async close() {
      await graphqlWs.close();
      // open SSE subscriptions would hold close() forever: end every connection once it began
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await waiter.close();
    },
  };
}
