import { parseAcceptPolicy, parseRateLimit, type RateLimit } from '@telly/bridge-core';
import { DEFAULT_BIND_ADDRESS, envPort, envTlsFiles, parseBindAddress, type TlsFiles } from '@telly/runtime';
import type { AcceptPolicy } from '@telly/schemas';

/** Port of the HTTP bridge. @default 8080 */
export const DEFAULT_HTTP_PORT = 8080;
/** Interface the bridge listens on: every one, since devices are remote (unless `TELLY_BIND_ADDRESS`). */
export const DEFAULT_HTTP_HOST = DEFAULT_BIND_ADDRESS;

/** The HTTP bridge's own settings (NATS is the runtime's), from {@link parseHttpConfig}. */
export interface HttpConfig {
  /** `TELLY_HTTP_PORT`. @default {@link DEFAULT_HTTP_PORT} */
  port: number;
  /** `TELLY_HTTP_HOST`, else `TELLY_BIND_ADDRESS`. @default {@link DEFAULT_HTTP_HOST} */
  host: string;
  /** HTTPS instead of HTTP, when `TELLY_HTTP_TLS_CERT` and `TELLY_HTTP_TLS_KEY` (PEM files) are both set. */
  tls: TlsFiles | undefined;
  /** `TELLY_RATE_PER_SECOND`, `TELLY_RATE_BURST`: each thing's limit. */
  rateLimit: RateLimit;
  /** `TELLY_ACCEPT_PAST`, `TELLY_ACCEPT_FUTURE`, `TELLY_ACCEPT_MONTHS`: the record times accepted. */
  accept: AcceptPolicy;
}

/** Reads the HTTP bridge's settings from the environment once, failing fast on a bad value. */
export function parseHttpConfig(env: NodeJS.ProcessEnv): HttpConfig {
  return {
    port: envPort(env, 'TELLY_HTTP_PORT', DEFAULT_HTTP_PORT),
    host: env.TELLY_HTTP_HOST || parseBindAddress(env),
    tls: envTlsFiles(env, 'TELLY_HTTP_TLS_CERT', 'TELLY_HTTP_TLS_KEY'),
    rateLimit: parseRateLimit(env),
    accept: parseAcceptPolicy(env),
  };
}
