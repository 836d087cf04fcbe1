// Test support: Telly in cluster mode on one machine. A 3-server NATS JetStream cluster with the
// users and permissions of nats-auth.ts, a Postgres of its own, and several `telly up`
// supervisors pointed at them (NATS_URL a list, TELLY_STREAM_REPLICAS=3): every component then
// runs once per supervisor, as replicas of a deployment would.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { NatsCluster, PostgresServer } from '@telly/harness';
import type { NatsConfig } from '@telly/runtime';
import { NATS_USERS, type NatsUser, natsInboxPrefix, natsUserName } from '../up/nats-auth.ts';
import { passwordVariable, renderManagedAuthorization } from '../up/nats-auth-config.ts';
import { type Platform, startPlatform } from './platform.ts';

export interface ClusterStackOptions {
  /** `telly up` supervisors, each running every component. @default 2 */
  instances?: number;
  /** NATS servers. @default 3 */
  natsServers?: number;
  /** `TELLY_STREAM_REPLICAS`. @default 3 */
  replicas?: 1 | 3 | 5;
  /** JetStream fsync interval of the servers. @default 'always' */
  syncInterval?: string;
  /** More environment for every supervisor (and so every component). */
  env?: NodeJS.ProcessEnv;
}

export interface ClusterStack extends AsyncDisposable {
  nats: NatsCluster;
  postgres: PostgresServer;
  databaseUrl: string;
  /** The running supervisors, in start order; {@link restartInstance} replaces one in place. */
  instances: Platform[];
  /** What every supervisor runs with: the cluster, the database, the NATS users' passwords. */
  env: NodeJS.ProcessEnv;
  /** How a test or the operator reaches the cluster: as `telly-admin`. */
  adminNats: NatsConfig;
  /** Starts one more supervisor on the same cluster and database. */
  startInstance(env?: NodeJS.ProcessEnv): Promise<Platform>;
  /** Stops supervisor `index` (SIGINT: its components drain) and starts a new one on its ports. */
  restartInstance(index: number): Promise<Platform>;
  stop(): Promise<void>;
}

/** An Ed25519 private JWK: every API instance signs and checks tokens with the same key. */
function signingKey(): string {
  return JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));
}

export async function startClusterStack(options: ClusterStackOptions = {}): Promise<ClusterStack> {
  const passwords = Object.fromEntries(
    NATS_USERS.map((user) => [user, randomBytes(18).toString('base64url')]),
  ) as Record<NatsUser, string>;
  const [natsStart, pgStart] = await Promise.allSettled([
    NatsCluster.start({
      size: options.natsServers ?? 3,
      syncInterval: options.syncInterval ?? 'always',
      extraConfig: renderManagedAuthorization(passwords),
    }),
    PostgresServer.start({ durable: true }),
  ]);
  if (natsStart.status === 'rejected' || pgStart.status === 'rejected') {
    if (natsStart.status === 'fulfilled') await natsStart.value.stop();
    if (pgStart.status === 'fulfilled') await pgStart.value.stop();
    throw natsStart.status === 'rejected' ? natsStart.reason : (pgStart as PromiseRejectedResult).reason;
  }
  const nats = natsStart.value;
  const postgres = pgStart.value;
  const instances: Platform[] = [];
  const stop = async () => {
    await Promise.allSettled(instances.map((p) => p.stop()));
    await Promise.allSettled([nats.stop(), postgres.stop()]);
  };
  try {
    const databaseUrl = await postgres.createDatabase('telly');
    const env: NodeJS.ProcessEnv = {
      NATS_URL: nats.url,
      DATABASE_URL: databaseUrl,
      TELLY_STREAM_REPLICAS: String(options.replicas ?? 3),
      TELLY_JWT_PRIVATE_KEY: signingKey(),
      ...Object.fromEntries(NATS_USERS.map((user) => [passwordVariable(user), passwords[user]])),
      ...options.env,
    };
    const startInstance = async (extra: NodeJS.ProcessEnv = {}) => {
      const platform = await startPlatform({ ...env, ...extra });
      instances.push(platform);
      return platform;
    };
    // one after the other: the first creates the R3 streams and runs the migrations
    for (let i = 0; i < (options.instances ?? 2); i++) await startInstance();
    return {
      nats,
      postgres,
      databaseUrl,
      instances,
      env,
      adminNats: {
        servers: nats.urls,
        user: natsUserName('admin'),
        pass: passwords.admin,
        inboxPrefix: natsInboxPrefix('admin'),
      },
      startInstance,
      async restartInstance(index) {
        const old = instances[index];
        if (!old) throw new RangeError(`no instance ${index}`);
        await old.stop();
        const { TELLY_DATA_DIR: _ownDataDir, ...again } = old.env;
        const platform = await startPlatform(again);
        instances[index] = platform;
        return platform;
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
