import { freePort } from './free-port.ts';
import { NatsServer, type NatsServerOptions } from './nats-server.ts';
import { httpOk, waitFor } from './wait.ts';

export interface NatsClusterOptions {
  /** Servers in the cluster: 3 tolerates one down, 5 two. @default 3 */
  size?: number;
  /** Cluster name (every server's `cluster.name`). @default 'telly' */
  name?: string;
  /** JetStream fsync interval of every server ({@link NatsServerOptions.syncInterval}). @default 'always' */
  syncInterval?: string;
  /** Configuration appended to every server's (e.g. the `authorization` of nats-auth.ts). */
  extraConfig?: string;
  /** nats-server binary. @default the one {@link NatsServer} finds */
  bin?: string;
  /** How long the cluster may take to elect its JetStream leader. @default 60 s */
  readyTimeoutMs?: number;
  onLine?: (server: string, line: string) => void;
}

/**
 * A real nats-server cluster with JetStream on free local ports: `size` servers (`telly-1` …),
 * each with its own client, route and monitoring port and store, every server routing to every
 * other. Servers can be killed and restarted on their ports and stores, one at a time, as a
 * production node would crash and come back.
 */
export class NatsCluster {
  readonly name: string;
  readonly servers: readonly NatsServer[];
  readonly routePorts: readonly number[];
  readonly #readyTimeoutMs: number;

  private constructor(name: string, servers: NatsServer[], routePorts: number[], readyTimeoutMs: number) {
    this.name = name;
    this.servers = servers;
    this.routePorts = routePorts;
    this.#readyTimeoutMs = readyTimeoutMs;
  }

  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const size = options.size ?? 3;
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a cluster needs 1 or more servers, not ${size}`);
    const name = options.name ?? 'telly';
    const routePorts: number[] = [];
    for (let i = 0; i < size; i++) routePorts.push(await freePort());
    const routes = routePorts.map((port) => JSON.stringify(`nats://127.0.0.1:${port}`));
    const started = await Promise.allSettled(
      routePorts.map((routePort, i) => {
        const serverName = `${name}-${i + 1}`;
        const config: NatsServerOptions = {
          serverName,
          syncInterval: options.syncInterval ?? 'always',
          extraConfig: [
            'cluster {',
            `  name: ${JSON.stringify(name)}`,
            '  host: "127.0.0.1"',
            `  port: ${routePort}`,
            `  routes: [${routes.join(', ')}]`,
            '}',
            options.extraConfig ?? '',
          ].join('\n'),
          ...(options.bin ? { bin: options.bin } : {}),
          ...(options.onLine ? { onLine: (line: string) => options.onLine?.(serverName, line) } : {}),
        };
        return NatsServer.start(config);
      }),
    );
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    const cluster = new NatsCluster(name, servers, routePorts, options.readyTimeoutMs ?? 60_000);
    try {
      if (failed) throw failed.reason;
      await cluster.ready();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Every server's client URL. */
  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  /** The servers as `NATS_URL` takes them: comma-separated. */
  get url(): string {
    return this.urls.join(',');
  }

  /**
   * Resolves once every running server reports itself healthy with JetStream current: routes up,
   * a meta leader elected and its state caught up (nats-server's `/healthz`).
   */
  async ready(timeoutMs = this.#readyTimeoutMs): Promise<void> {
    await waitFor(
      async () => {
        const running = this.servers.filter((s) => s.process.running);
        const ok = await Promise.all(running.map((s) => httpOk(`http://127.0.0.1:${s.httpPort}/healthz`)));
        return running.length > 0 && ok.every(Boolean);
      },
      { timeoutMs, what: `nats cluster ${this.name} healthy`, intervalMs: 100 },
    );
  }

  /** Kills server `index` (0-based) with `signal`, as a crash would; its store stays. */
  async kill(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.#server(index).process.kill(signal);
  }

  /** Starts server `index` again on its ports and store, and waits until the cluster is healthy. */
  async restart(index: number): Promise<void> {
    await this.#server(index).restart();
    await this.ready();
  }

  #server(index: number): NatsServer {
    const server = this.servers[index];
    if (!server) throw new RangeError(`no server ${index} in a cluster of ${this.servers.length}`);
    return server;
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop())); // each removes its temp store
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
