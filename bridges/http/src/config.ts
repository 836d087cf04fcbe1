import { ConfigError, envPort, envUrl } from '@telly/runtime';

/** Port of the HTTP bridge (docs/configuration.md). @default 8080 */
export const DEFAULT_HTTP_PORT = 8080;
/** Interface the bridge listens on: every one, since devices are remote. @default '0.0.0.0' */
export const DEFAULT_HTTP_HOST = '0.0.0.0';

/** The HTTP bridge's settings, from {@link parseHttpConfig}. */
export interface HttpConfig {
  /** `TELLY_HTTP_PORT`. @default {@link DEFAULT_HTTP_PORT} */
  port: number;
  /** `TELLY_HTTP_HOST`. @default {@link DEFAULT_HTTP_HOST} */
  host: string;
  /** `NATS_URL`: one URL, or a comma-separated list of a cluster's servers. */
  natsServers: string[];
  /** HTTPS instead of HTTP, when `TELLY_HTTP_TLS_CERT` and `TELLY_HTTP_TLS_KEY` (PEM files) are both set. */
  tls: { certFile: string; keyFile: string } | undefined;
}

/** Reads the HTTP bridge's settings from the environment once, failing fast on a bad value. */
export function parseHttpConfig(env: NodeJS.ProcessEnv): HttpConfig {
  const natsServers = (env.NATS_URL ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  if (natsServers.length === 0) throw new ConfigError('NATS_URL', 'is required');
  for (const url of natsServers) envUrl({ NATS_URL: url }, 'NATS_URL', ['nats', 'tls']);
  const certFile = env.TELLY_HTTP_TLS_CERT || undefined;
  const keyFile = env.TELLY_HTTP_TLS_KEY || undefined;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError(
      certFile ? 'TELLY_HTTP_TLS_KEY' : 'TELLY_HTTP_TLS_CERT',
      'HTTPS needs both a certificate and a key',
    );
  }
  return {
    port: envPort(env, 'TELLY_HTTP_PORT', DEFAULT_HTTP_PORT),
    host: env.TELLY_HTTP_HOST || DEFAULT_HTTP_HOST,
    natsServers,
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
  };
}
