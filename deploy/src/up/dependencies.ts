import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  DEFAULT_POSTGRES_USER,
  isPostgresAccessError,
  type ManagedProcess,
  NatsServer,
  type PostgresServer,
} from '@telly/harness';
import {
  type CheckResult,
  ConfigError,
  connectNats,
  createPgPool,
  type HealthChecks,
  type Logger,
  type NatsConfig,
} from '@telly/runtime';
import type pg from 'pg';
import type { UpConfig } from '../config.ts';
import { RestartBackoff } from './backoff.ts';
import { type NatsUser, natsInboxPrefix, natsUserName } from './nats-auth.ts';
import { renderManagedAuthorization } from './nats-auth-config.ts';
import { startClusterPostgres } from './postgres-cluster.ts';
import { natsPasswordFile, natsPasswords, readOrCreateSecret, readSecret } from './secrets.ts';

const DATABASE_NAME = 'telly';

/** NATS and Postgres as `telly up` runs them: managed child processes, or the given URLs. */
export interface Dependencies {
  /** One server, or the comma-separated servers of a cluster: what components get as `NATS_URL`. */
  natsUrl: string;
  databaseUrl: string;
  nats: NatsConnection;
  pool: pg.Pool;
  /**
   * The NATS variables a component connecting as `user` gets: its own user, password and inbox
   * (on the managed server, or on a cluster given that user's password); none otherwise (the
   * environment's credentials apply).
   */
  natsEnv(user: NatsUser): NodeJS.ProcessEnv;
  /** Closes the clients, then stops the managed servers, killing what is not down in `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  /** Kills the managed servers at once (SIGKILL): a second Ctrl-C. */
  kill(): void;
}

/** @default how long the managed servers get to stop before they are killed */
export const DEFAULT_SERVERS_STOP_MS = 3_000;
/** How long the supervisor's NATS connection and pool get to close. */
const CLIENT_CLOSE_MS = 1_000;

/** Told the pid of every managed server whenever one (re)starts: `telly up`'s guardian. */
export type WatchServer = (name: string, process: ManagedProcess) => void;

/** Restarts a managed server whenever it exits without being asked to. */
function supervise(
  name: string,
  process: ManagedProcess,
  restart: () => Promise<void>,
  logger: Logger,
  isStopping: () => boolean,
  watch: WatchServer,
): void {
  watch(name, process);
  const backoff = new RestartBackoff();
  backoff.started();
  process.on('exit', (code, signal, expected) => {
    if (expected || isStopping()) return;
    const delay = backoff.next();
    logger.error(
      { server: name, code, signal, restartInMs: delay, log: process.logTail.slice(-2_000) },
      `${name} exited`,
    );
    const attempt = () => {
      if (isStopping()) return;
      restart().then(
        () => {
          backoff.started();
          watch(name, process);
          logger.info({ server: name, pid: process.pid }, `${name} restarted`);
        },
        (err: unknown) => {
          logger.error({ server: name, err }, `${name} failed to restart`);
          setTimeout(attempt, backoff.next());
        },
      );
    };
    setTimeout(attempt, delay);
  });
}

const POSTGRES_PASSWORD = 'postgres-password';
/** The managed Postgres' password, generated at the first `telly up`. */
const postgresPassword = (dataDir: string) => readOrCreateSecret(dataDir, POSTGRES_PASSWORD);

/** NATS as `user` sees it: the URL, that user's password and its own inbox. */
function ownUser(servers: string[], user: NatsUser, password: string): NatsConfig {
  return { servers, user: natsUserName(user), pass: password, inboxPrefix: natsInboxPrefix(user) };
}

/**
 * Where the platform's NATS is and how an operator connects to it: the configured cluster
 * (as `telly-admin` when `TELLY_NATS_ADMIN_PASSWORD` is given), or the managed nats-server of
 * `telly up` on this machine as `telly-admin`, its password read (never created) from the data dir.
 */
export async function platformNats(config: UpConfig): Promise<{ natsUrl: string; nats: NatsConfig }> {
  const natsUrl = config.nats?.servers.join(',') ?? `nats://127.0.0.1:${config.natsPort}`;
  return { natsUrl, nats: await operatorNats(config, natsUrl) };
}

/**
 * Where the platform's NATS and Postgres are ({@link platformNats}; the configured Postgres, or
 * the managed one with the password kept in the data dir). What operator commands such as
 * `telly replay` connect to. It only reads the secrets `telly up` generated: a data dir without
 * them is a {@link ConfigError} naming `TELLY_DATA_DIR`, and nothing is written.
 */
export async function platformUrls(
  config: UpConfig,
): Promise<{ natsUrl: string; nats: NatsConfig; databaseUrl: string }> {
  const { natsUrl, nats } = await platformNats(config);
  if (config.databaseUrl) return { natsUrl, nats, databaseUrl: config.databaseUrl };
  const password = encodeURIComponent(await readSecret(config.dataDir, POSTGRES_PASSWORD));
  return {
    natsUrl,
    nats,
    databaseUrl: `postgres://${DEFAULT_POSTGRES_USER}:${password}@127.0.0.1:${config.postgresPort}/${DATABASE_NAME}`,
  };
}

/** How the supervisor and the `telly` CLI connect: as `telly-admin` when its password is known. */
async function operatorNats(config: UpConfig, natsUrl: string): Promise<NatsConfig> {
  if (!config.nats)
    return ownUser([natsUrl], 'admin', await readSecret(config.dataDir, natsPasswordFile('admin')));
  const admin = config.natsPasswords.admin;
  return admin ? ownUser(config.nats.servers, 'admin', admin) : config.nats;
}

function managedCheck(process: ManagedProcess | undefined, url: string): Record<string, unknown> {
  return process ? { url, managed: true, pid: process.pid } : { url, managed: false };
}

export async function startDependencies(
  config: UpConfig,
  logger: Logger,
  health: HealthChecks,
  watch: WatchServer = () => {},
): Promise<Dependencies> {
  let stopping = false;
  const isStopping = () => stopping;
  await mkdir(config.dataDir, { recursive: true });

  let natsServer: NatsServer | undefined;
  let natsUrl = config.nats?.servers.join(',') ?? '';
  // the managed server's generated passwords, or those given for the users of a cluster
  let passwords: Partial<Record<NatsUser, string>> = config.natsPasswords;
  let supervisorNats = config.nats && (await operatorNats(config, natsUrl));
  if (!supervisorNats) {
    const generated = await natsPasswords(config.dataDir);
    passwords = generated;
    natsServer = await NatsServer.start({
      port: config.natsPort,
      storeDir: join(config.dataDir, 'nats'),
      // no anonymous client, each component its own user (nats-auth.ts); no unauthenticated monitoring port
      extraConfig: renderManagedAuthorization(generated),
      monitoring: false,
      spawn: { detached: true },
      onLine: (line) => logger.debug({ server: 'nats-server' }, line),
    });
    natsUrl = natsServer.url;
    supervisorNats = ownUser([natsUrl], 'admin', generated.admin);
    const server = natsServer;
    supervise('nats-server', server.process, () => server.restart(), logger, isStopping, watch);
    logger.info({ url: natsUrl, version: server.version, pid: server.process.pid }, 'nats-server started');
  }

  let pgServer: PostgresServer | undefined;
  let databaseUrl = config.databaseUrl;
  let nats: NatsConnection | undefined;
  let pool: pg.Pool | undefined;
  try {
    if (!databaseUrl) {
      pgServer = await startClusterPostgres(
        config.dataDir,
        {
          port: config.postgresPort,
          password: await postgresPassword(config.dataDir),
          spawn: { detached: true },
          onLine: (line) => logger.debug({ server: 'postgres' }, line),
        },
        logger,
      );
      databaseUrl = await pgServer.createDatabase(DATABASE_NAME);
      const server = pgServer;
      supervise('postgres', server.process, () => server.restart(), logger, isStopping, watch);
      logger.info(
        { port: server.port, pid: server.process.pid, cluster: server.dataDir },
        'postgres started',
      );
    }

    nats = await connectNats(supervisorNats, 'telly-up');
    pool = createPgPool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 2_000 }, logger);
  } catch (err) {
    // leave nothing running behind a failed start
    stopping = true;
    await nats?.close();
    await pool?.end();
    await Promise.all([natsServer?.process.stop(), pgServer?.process.stop()]);
    if (isPostgresAccessError(err)) {
      throw new ConfigError(
        'TELLY_DATA_DIR',
        `${err.message}: choose a data dir it can reach (e.g. /var/lib/telly), move the cluster there, or set DATABASE_URL`,
        { cause: err },
      );
    }
    throw err;
  }
  const jsm = await jetstreamManager(nats);

  const safeNatsUrl = natsUrl;
  health.add('nats', async (): Promise<CheckResult> => {
    const account = await jsm.getAccountInfo();
    return {
      status: 'up',
      detail: {
        ...managedCheck(natsServer?.process, safeNatsUrl),
        streams: account.streams,
        server: nats.info?.version,
      },
    };
  });
  const safeDbUrl = new URL(databaseUrl);
  safeDbUrl.password = '';
  health.add('postgres', async (): Promise<CheckResult> => {
    const { rows } = await pool.query<{ server_version: string }>('SHOW server_version');
    return {
      status: 'up',
      detail: { ...managedCheck(pgServer?.process, safeDbUrl.toString()), version: rows[0]?.server_version },
    };
  });

  const servers = supervisorNats.servers;
  const childPasswords = passwords;
  return {
    natsUrl,
    databaseUrl,
    nats,
    pool,
    natsEnv(user) {
      const password = childPasswords[user];
      if (password === undefined) return {};
      const own = ownUser(servers, user, password);
      return { NATS_USER: own.user, NATS_PASSWORD: own.pass, NATS_INBOX_PREFIX: own.inboxPrefix };
    },
    async stop(timeoutMs = DEFAULT_SERVERS_STOP_MS) {
      stopping = true;
      const deadline = Date.now() + timeoutMs;
      // the supervisor's own clients: a dead server must not hold the stop up
      await Promise.all(
        [nats.drain(), pool.end()].map((closing) =>
          Promise.race([closing.catch(() => {}), sleep(CLIENT_CLOSE_MS, undefined, { ref: false })]),
        ),
      );
      if (!nats.isClosed()) await nats.close();
      const left = Math.max(deadline - Date.now(), 500);
      await Promise.all([natsServer?.process.stop(left), pgServer?.process.stop(left)]);
    },
    kill() {
      stopping = true;
      void natsServer?.process.kill('SIGKILL');
      void pgServer?.process.kill('SIGKILL');
    },
  };
}
