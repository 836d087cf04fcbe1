import { resolve } from 'node:path';
import {
  envEnum,
  envPort,
  type NatsConfig,
  parseBindAddress,
  parseDatabaseUrl,
  parseNatsConfig,
} from '@telly/runtime';
import { NATS_USERS, type NatsUser } from './up/nats-auth.ts';
import { passwordVariable } from './up/nats-auth-config.ts';

/** The public port of the API, `/healthz` and `/metrics` (the supervisor's). */
export const DEFAULT_API_PORT = 4000;
export const DEFAULT_NATS_PORT = 4222;
export const DEFAULT_POSTGRES_PORT = 5433;
export const DEFAULT_DATA_DIR = '.telly';

/**
 * What `telly up` itself reads from the environment, parsed once. Each component's own settings
 * (its ports, TLS files, sinks) are parsed by the component (see `checkComponentConfig`).
 */
export interface UpConfig {
  apiPort: number;
  /** `TELLY_BIND_ADDRESS`: where the public API port listens (the bridges read it too). */
  bindAddress: string;
  /** Use this NATS server/cluster (`NATS_URL`) instead of starting one. */
  nats: NatsConfig | undefined;
  /**
   * On that cluster, the password of each Telly user given (`TELLY_NATS_<USER>_PASSWORD`, as in
   * deploy/nats/telly-permissions.conf): that component connects as its own user.
   */
  natsPasswords: Partial<Record<NatsUser, string>>;
  /** Port of the managed nats-server when `nats` is unset. */
  natsPort: number;
  /** Use this Postgres (`DATABASE_URL`) instead of the embedded one. */
  databaseUrl: string | undefined;
  /** Port of the embedded Postgres when `databaseUrl` is unset. */
  postgresPort: number;
  /** Absolute path of the state directory. */
  dataDir: string;
  /** Copies of every stream: 1 on one machine, 3 on a production cluster. */
  streamReplicas: 1 | 3 | 5;
}

export function parseConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): UpConfig {
  return {
    apiPort: envPort(env, 'TELLY_API_PORT', DEFAULT_API_PORT),
    bindAddress: parseBindAddress(env),
    nats: env.NATS_URL ? parseNatsConfig(env) : undefined,
    natsPasswords: Object.fromEntries(
      NATS_USERS.flatMap((user) => {
        const password = env.NATS_URL ? env[passwordVariable(user)] : undefined;
        return password ? [[user, password]] : [];
      }),
    ),
    natsPort: envPort(env, 'TELLY_NATS_PORT', DEFAULT_NATS_PORT),
    databaseUrl: env.DATABASE_URL ? parseDatabaseUrl(env) : undefined,
    postgresPort: envPort(env, 'TELLY_POSTGRES_PORT', DEFAULT_POSTGRES_PORT),
    dataDir: resolve(cwd, env.TELLY_DATA_DIR || DEFAULT_DATA_DIR),
    streamReplicas: Number(envEnum(env, 'TELLY_STREAM_REPLICAS', ['1', '3', '5'], '1')) as 1 | 3 | 5,
  };
}
