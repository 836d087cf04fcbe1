import { DEFAULT_MAX_MODEL_BYTES } from '@telly/inference';
import { envInteger, envPort, parseBindAddress } from '@telly/runtime';
import { parseWebUiConfig, type WebUiConfig } from './plugins/web-ui.ts';

export const DEFAULT_API_PORT = 4000;
/** `iss` of access tokens and what they must be presented to. */
export const DEFAULT_ISSUER = 'telly';
export const DEFAULT_AUDIENCE = 'telly-api';
/** Rules one tenant may have unless `TELLY_MAX_RULES_PER_TENANT` says otherwise. */
export const DEFAULT_MAX_RULES_PER_TENANT = 1_000;

export interface ApiConfig {
  port: number;
  /** Loopback under `telly up` (its supervisor owns the public port), else `TELLY_BIND_ADDRESS`. */
  host: string;
  issuer: string;
  audience: string;
  /** JSON of an Ed25519 private JWK (`TELLY_JWT_PRIVATE_KEY`), else read/generated at `jwtKeyFile`. */
  jwtPrivateKey: string | undefined;
  jwtKeyFile: string | undefined;
  /** `TELLY_OIDC_PROVIDERS` JSON, parsed by the OIDC module. */
  oidcProviders: string | undefined;
  /** `TELLY_OPERATOR_TENANT`: the tenant whose admins may replay and verify projections. */
  operatorTenant: string | undefined;
  /**
   * Behind `telly up`'s proxy (`TELLY_API_INTERNAL_PORT` set): a request from loopback is the
   * proxy's, and its `X-Forwarded-For` names the client the throttles count.
   */
  trustProxy: boolean;
  /** `TELLY_MAX_RULES_PER_TENANT`: rules one tenant may have. @default {@link DEFAULT_MAX_RULES_PER_TENANT} */
  maxRulesPerTenant: number;
  /**
   * `TELLY_MAX_MODEL_BYTES`: the largest model file an upload may carry (every other request
   * keeps the 1 MiB body limit). @default {@link DEFAULT_MAX_MODEL_BYTES}
   */
  maxModelBytes: number;
  /** The web dashboard at `/` (`TELLY_WEB_DIR`, and the device ports it shows). */
  webUi?: WebUiConfig;
}

/** Reads the API's own settings once (NATS and Postgres are the runtime's), failing fast on a bad value. */
export function parseApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const dataDir = env.TELLY_DATA_DIR;
  return {
    // in `telly up` the supervisor owns the public port and passes an internal one
    port: envPort(env, 'TELLY_API_INTERNAL_PORT', envPort(env, 'TELLY_API_PORT', DEFAULT_API_PORT)),
    host: env.TELLY_API_INTERNAL_PORT ? '127.0.0.1' : parseBindAddress(env),
    issuer: env.TELLY_JWT_ISSUER || DEFAULT_ISSUER,
    audience: env.TELLY_JWT_AUDIENCE || DEFAULT_AUDIENCE,
    jwtPrivateKey: env.TELLY_JWT_PRIVATE_KEY || undefined,
    jwtKeyFile: env.TELLY_JWT_KEY_FILE || (dataDir ? `${dataDir}/secrets/jwt-ed25519.jwk` : undefined),
    oidcProviders: env.TELLY_OIDC_PROVIDERS || undefined,
    operatorTenant: env.TELLY_OPERATOR_TENANT || undefined,
    trustProxy: Boolean(env.TELLY_API_INTERNAL_PORT),
    maxRulesPerTenant: envInteger(env, 'TELLY_MAX_RULES_PER_TENANT', DEFAULT_MAX_RULES_PER_TENANT, {
      max: 1_000_000,
    }),
    maxModelBytes: envInteger(env, 'TELLY_MAX_MODEL_BYTES', DEFAULT_MAX_MODEL_BYTES, {
      max: 1024 * 1024 * 1024,
    }),
    webUi: parseWebUiConfig(env),
  };
}
