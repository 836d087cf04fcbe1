import { isIP } from 'node:net';
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
  /**
   * `NATS_INBOX_PREFIX`: where replies to this connection arrive (`_INBOX` when unset). A
   * server that lets each user subscribe only to its own prefix keeps one component from
   * reading another's replies (docs/security.md).
   */
  inboxPrefix?: string | undefined;
}

const INBOX_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Parses `NATS_URL` (required; `nats://` or `tls://`, comma-separated for a cluster) and NATS auth. */
export function parseNatsConfig(env: NodeJS.ProcessEnv): NatsConfig {
  const servers = envUrlList(env, 'NATS_URL', ['nats', 'tls']).map((url) => url.href);
  if (servers.length === 0) throw new ConfigError('NATS_URL', 'is required');
  if (Boolean(env.NATS_USER) !== Boolean(env.NATS_PASSWORD)) {
    throw new ConfigError(env.NATS_USER ? 'NATS_PASSWORD' : 'NATS_USER', 'user authentication needs both');
  }
  const inboxPrefix = env.NATS_INBOX_PREFIX || undefined;
  if (inboxPrefix !== undefined && !INBOX_PREFIX.test(inboxPrefix)) {
    throw new ConfigError(
      'NATS_INBOX_PREFIX',
      'must be subject tokens without wildcards, e.g. _INBOX_telly-api',
    );
  }
  return {
    servers,
    user: env.NATS_USER || undefined,
    pass: env.NATS_PASSWORD || undefined,
    token: env.NATS_TOKEN || undefined,
    credsFile: env.NATS_CREDS || undefined,
    ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
  };
}

/** Where public listeners bind when `TELLY_BIND_ADDRESS` is unset: every interface. */
export const DEFAULT_BIND_ADDRESS = '0.0.0.0';

/**
 * `TELLY_BIND_ADDRESS`: the address the public ports (the API, the device bridges) listen on,
 * an IPv4 or IPv6 literal. Internal listeners always bind to loopback.
 */
export function parseBindAddress(env: NodeJS.ProcessEnv): string {
  const address = env.TELLY_BIND_ADDRESS?.trim() || DEFAULT_BIND_ADDRESS;
  if (isIP(address) === 0) {
    throw new ConfigError(
      'TELLY_BIND_ADDRESS',
      `must be an IP address such as 0.0.0.0 or 127.0.0.1 (got ${address})`,
    );
  }
  return address;
}

/** Parses `DATABASE_URL` (required; `postgres://` or `postgresql://`). */
export function parseDatabaseUrl(env: NodeJS.ProcessEnv): string {
  const url = envUrl(env, 'DATABASE_URL', ['postgres', 'postgresql']);
  if (!url) throw new ConfigError('DATABASE_URL', 'is required');
  return url.href;
}
