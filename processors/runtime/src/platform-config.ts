import { ConfigError, envUrl, envUrlList } from './config.ts';

/** How a component reaches NATS, from {@link parseNatsConfig}. */
export interface NatsConfig {
  /** `NATS_URL`: one server, or a comma-separated list of a cluster's servers. */
  servers: string[];
  /** `NATS_USER` / `NATS_PASSWORD`: user and password authentication. */
  user?: string | undefined;
  pass?: string | undefined;
  /** `NATS_TOKEN`: token authentication. */
  token?: string | undefined;
  /** `NATS_CREDS`: path of a `.creds` file (JWT and nkey seed) for decentralized auth. */
  credsFile?: string | undefined;
}

/** Parses `NATS_URL` (required; `nats://` or `tls://`, comma-separated for a cluster) and NATS auth. */
export function parseNatsConfig(env: NodeJS.ProcessEnv): NatsConfig {
  const servers = envUrlList(env, 'NATS_URL', ['nats', 'tls']).map((url) => url.href);
  if (servers.length === 0) throw new ConfigError('NATS_URL', 'is required');
  if (Boolean(env.NATS_USER) !== Boolean(env.NATS_PASSWORD)) {
    throw new ConfigError(env.NATS_USER ? 'NATS_PASSWORD' : 'NATS_USER', 'user authentication needs both');
  }
  return {
    servers,
    user: env.NATS_USER || undefined,
    pass: env.NATS_PASSWORD || undefined,
    token: env.NATS_TOKEN || undefined,
    credsFile: env.NATS_CREDS || undefined,
  };
}

/** Parses `DATABASE_URL` (required; `postgres://` or `postgresql://`). */
export function parseDatabaseUrl(env: NodeJS.ProcessEnv): string {
  const url = envUrl(env, 'DATABASE_URL', ['postgres', 'postgresql']);
  if (!url) throw new ConfigError('DATABASE_URL', 'is required');
  return url.href;
}
