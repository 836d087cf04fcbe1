import type { SpawnOptions } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { findNatsServer, natsServerVersion } from './binaries.ts';
import { ManagedProcess } from './managed-process.ts';
import { httpOk } from './wait.ts';

export interface NatsServerOptions {
  /** Client port. @default a free port */
  port?: number;
  /** Monitoring port (`/healthz`, `/varz`). @default a free port */
  httpPort?: number;
  /**
   * Serve the monitoring endpoints (unauthenticated, on `host`). Off, readiness is read from the
   * server's log instead. @default true
   */
  monitoring?: boolean;
  /** @default '127.0.0.1' */
  host?: string;
  /** JetStream store directory; kept on stop when given, a temp dir removed on stop otherwise. */
  storeDir?: string;
  /**
   * JetStream fsync interval: `'always'` fsyncs every write before acking it (no acked message
   * is lost on an OS crash), a duration such as `'2m'` is nats-server's default trade-off.
   * @default 'always'
   */
  syncInterval?: string;
  /** @default 'telly' */
  serverName?: string;
  /** Largest message the server accepts. @default 8 MiB */
  maxPayload?: number;
  /** Extra nats-server configuration appended verbatim (e.g. `authorization`; the file is mode 0600). */
  extraConfig?: string;
  /** nats-server binary. @default {@link findNatsServer} */
  bin?: string;
  onLine?: (line: string) => void;
  /** Extra spawn options, e.g. `detached` so a terminal's Ctrl-C reaches only the supervisor. */
  spawn?: SpawnOptions;
  /** How long the server may take to be ready. @default {@link NATS_START_TIMEOUT_MS} */
  startTimeoutMs?: number;
}

/** @default how long a started nats-server may take to be ready */
export const NATS_START_TIMEOUT_MS = 30_000;

/** A real nats-server with JetStream, started on free ports. */
export class NatsServer {
  readonly url: string;
  readonly port: number;
  /** The monitoring port; undefined when `monitoring` is off. */
  readonly httpPort: number | undefined;
  readonly storeDir: string;
  readonly version: string;
  readonly process: ManagedProcess;
  readonly #ownsStoreDir: boolean;
  /** How many times the server logged that it is ready: readiness without the monitoring port. */
  readonly #readyLogs: { count: number };
  readonly #startTimeoutMs: number;

  private constructor(init: {
    port: number;
    httpPort: number | undefined;
    readyLogs: { count: number };
    host: string;
    storeDir: string;
    ownsStoreDir: boolean;
    version: string;
    process: ManagedProcess;
    startTimeoutMs: number;
  }) {
    this.port = init.port;
    this.httpPort = init.httpPort;
    this.#readyLogs = init.readyLogs;
    this.url = `nats://${init.host}:${init.port}`;
    this.storeDir = init.storeDir;
    this.#ownsStoreDir = init.ownsStoreDir;
    this.version = init.version;
    this.process = init.process;
    this.#startTimeoutMs = init.startTimeoutMs;
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const bin = options.bin ?? findNatsServer();
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? (await getPort({ host }));
    const monitoring = options.monitoring ?? true;
    const httpPort = monitoring ? (options.httpPort ?? (await getPort({ host }))) : undefined;
    const ownsStoreDir = options.storeDir === undefined;
    const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), 'telly-nats-')));
    // the store holds every stream: readable by this user only
    await mkdir(storeDir, { recursive: true, mode: 0o700 });
    await chmod(storeDir, 0o700);
    const configFile = join(storeDir, 'nats-server.conf');
    await writeFile(
      configFile,
      [
        `server_name: ${JSON.stringify(options.serverName ?? 'telly')}`,
        `host: ${JSON.stringify(host)}`,
        `port: ${port}`,
        ...(httpPort === undefined ? [] : [`http: ${JSON.stringify(`${host}:${httpPort}`)}`]),
        `max_payload: ${options.maxPayload ?? 8 * 1024 * 1024}`,
        'jetstream {',
        `  store_dir: ${JSON.stringify(storeDir)}`,
        `  sync_interval: ${JSON.stringify(options.syncInterval ?? 'always')}`,
        '}',
        options.extraConfig ?? '',
      ].join('\n'),
      { mode: 0o600 },
    );
    await chmod(configFile, 0o600); // it may hold passwords
    const readyLogs = { count: 0 };
    const process = new ManagedProcess({
      name: 'nats-server',
      command: bin,
      args: ['-c', configFile],
      stopSignal: 'SIGTERM',
      ...(options.spawn ? { spawn: options.spawn } : {}),
      onLine: (line) => {
        if (line.includes('Server is ready')) readyLogs.count++;
        options.onLine?.(line);
      },
    });
    try {
      const server = new NatsServer({
        port,
        httpPort,
        readyLogs,
        host,
        storeDir,
        ownsStoreDir,
        version: natsServerVersion(bin),
        process,
        startTimeoutMs: options.startTimeoutMs ?? NATS_START_TIMEOUT_MS,
      });
      await server.#launch();
      return server;
    } catch (err) {
      // a failed start leaves nothing behind: the process is stopped, a temp store removed
      if (ownsStoreDir) await rm(storeDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The monitoring endpoint's JetStream-aware health URL (throws when monitoring is off). */
  get healthUrl(): string {
    if (this.httpPort === undefined) throw new Error('this nats-server was started without monitoring');
    return `http://127.0.0.1:${this.httpPort}/healthz?js-enabled-only=true`;
  }

  async #launch(): Promise<void> {
    const readyBefore = this.#readyLogs.count;
    await this.process.launch(
      async () => {
        if (this.httpPort === undefined) return this.#readyLogs.count > readyBefore;
        return httpOk(this.healthUrl);
      },
      { timeoutMs: this.#startTimeoutMs },
    );
  }

  /** Starts the server again on the same ports and store (after a crash or a kill). */
  async restart(): Promise<void> {
    await this.process.stop();
    await this.#launch();
  }

  async stop(): Promise<void> {
    await this.process.stop();
    if (this.#ownsStoreDir) await rm(this.storeDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
