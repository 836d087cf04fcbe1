import type { SpawnOptions } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { findNatsServer, natsServerVersion } from './binaries.ts';
import { ManagedProcess } from './managed-process.ts';
import { httpOk, waitFor } from './wait.ts';

export interface NatsServerOptions {
  /** Client port. @default a free port */
  port?: number;
  /** Monitoring port (`/healthz`, `/varz`). @default a free port */
  httpPort?: number;
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
  /** Extra nats-server configuration appended verbatim. */
  extraConfig?: string;
  /** nats-server binary. @default {@link findNatsServer} */
  bin?: string;
  onLine?: (line: string) => void;
  /** Extra spawn options, e.g. `detached` so a terminal's Ctrl-C reaches only the supervisor. */
  spawn?: SpawnOptions;
}

/** A real nats-server with JetStream, started on free ports. */
export class NatsServer {
  readonly url: string;
  readonly port: number;
  readonly httpPort: number;
  readonly storeDir: string;
  readonly version: string;
  readonly process: ManagedProcess;
  readonly #ownsStoreDir: boolean;

  private constructor(init: {
    port: number;
    httpPort: number;
    host: string;
    storeDir: string;
    ownsStoreDir: boolean;
    version: string;
    process: ManagedProcess;
  }) {
    this.port = init.port;
    this.httpPort = init.httpPort;
    this.url = `nats://${init.host}:${init.port}`;
    this.storeDir = init.storeDir;
    this.#ownsStoreDir = init.ownsStoreDir;
    this.version = init.version;
    this.process = init.process;
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const bin = options.bin ?? findNatsServer();
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? (await getPort({ host }));
    const httpPort = options.httpPort ?? (await getPort({ host }));
    const ownsStoreDir = options.storeDir === undefined;
    const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), 'telly-nats-')));
    await mkdir(storeDir, { recursive: true });
    const configFile = join(storeDir, 'nats-server.conf');
    await writeFile(
      configFile,
      [
        `server_name: ${JSON.stringify(options.serverName ?? 'telly')}`,
        `host: ${JSON.stringify(host)}`,
        `port: ${port}`,
        `http: ${JSON.stringify(`${host}:${httpPort}`)}`,
        `max_payload: ${options.maxPayload ?? 8 * 1024 * 1024}`,
        'jetstream {',
        `  store_dir: ${JSON.stringify(storeDir)}`,
        `  sync_interval: ${JSON.stringify(options.syncInterval ?? 'always')}`,
        '}',
        options.extraConfig ?? '',
      ].join('\n'),
    );
    const process = new ManagedProcess({
      name: 'nats-server',
      command: bin,
      args: ['-c', configFile],
      stopSignal: 'SIGTERM',
      ...(options.spawn ? { spawn: options.spawn } : {}),
      ...(options.onLine ? { onLine: options.onLine } : {}),
    });
    const server = new NatsServer({
      port,
      httpPort,
      host,
      storeDir,
      ownsStoreDir,
      version: natsServerVersion(bin),
      process,
    });
    await server.#launch();
    return server;
  }

  /** The monitoring endpoint's JetStream-aware health URL. */
  get healthUrl(): string {
    return `http://127.0.0.1:${this.httpPort}/healthz?js-enabled-only=true`;
  }

  async #launch(): Promise<void> {
    this.process.start();
    await waitFor(
      async () => {
        if (!this.process.running) throw new Error(`nats-server exited:\n${this.process.logTail}`);
        return httpOk(this.healthUrl);
      },
      { what: 'nats-server ready', timeoutMs: 30_000 },
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
