import { fork } from 'node:child_process';
import { Agent, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort } from '@telly/harness';
import {
  createLogger,
  createMetricsRegistry,
  type Endpoint,
  ensureTopology,
  HealthChecks,
  type HealthReport,
  type Logger,
  serveObservability,
  worstStatus,
} from '@telly/runtime';
import { createProxyServer } from 'http-proxy-3';
import { AggregatorRegistry } from 'prom-client';
import type { UpConfig } from '../config.ts';
import { ComponentProcess } from './component-process.ts';
import { COMPONENTS, type ComponentEntry, loadComponent } from './components.ts';
import { DEFAULT_SERVERS_STOP_MS, startDependencies, type WatchServer } from './dependencies.ts';
import type { GuardianMessage, MetricsJson } from './ipc.ts';
import { migrate } from './migrate.ts';
import { NATS_USERS } from './nats-auth.ts';
import { passwordVariable } from './nats-auth-config.ts';

export interface UpOptions {
  /** @default {@link COMPONENTS} */
  components?: ComponentEntry[];
  logger?: Logger;
}

export interface RunningPlatform {
  apiUrl: string;
  natsUrl: string;
  databaseUrl: string;
  /** Where each component listens, as it reported. */
  endpoints: Endpoint[];
  health(): Promise<HealthReport>;
  /**
   * Drains and stops everything within {@link SHUTDOWN_BUDGET_MS}: the API and bridges, then the
   * processors, then the managed servers, each step bounded (what does not stop in time is killed).
   */
  stop(): Promise<void>;
  /** Kills every component and managed server at once (SIGKILL): a second Ctrl-C. */
  kill(): void;
}

/** How long the API and the bridges get to drain at stop. */
const EDGE_DRAIN_MS = 2_500;
/** How long the processors then get. */
const PROCESSOR_DRAIN_MS = 2_500;
/** The most a stop takes: its steps (the managed servers last), with a margin for the proxy. */
export const SHUTDOWN_BUDGET_MS = EDGE_DRAIN_MS + PROCESSOR_DRAIN_MS + DEFAULT_SERVERS_STOP_MS + 1_000;

/**
 * `telly up`: checks every component's settings, starts NATS and Postgres (managed or given),
 * ensures the stream topology, runs every package's migrations (`telly migrate`), then starts
 * every component in its own supervised child process, with `/healthz` and `/metrics` for the
 * whole tree on the API port.
 */
export async function up(config: UpConfig, options: UpOptions = {}): Promise<RunningPlatform> {
  const logger = options.logger ?? createLogger('telly-up');
  const entries = (options.components ?? COMPONENTS).filter((entry) => entry.enabled?.(process.env) ?? true);
  // a bad TELLY_MQTT_PORT fails here, naming the variable, before anything was started
  for (const entry of entries) (await loadComponent(entry)).checkConfig(process.env);
  const guardian = startGuardian();
  const dependencyHealth = new HealthChecks();
  const deps = await startDependencies(config, logger, dependencyHealth, guardian.watch).catch(
    (err: unknown) => {
      guardian.release();
      throw err;
    },
  );
  try {
    const report = await ensureTopology(deps.nats, await jetstreamManager(deps.nats), {
      replicas: config.streamReplicas,
    });
    logger.info({ topology: report }, 'stream topology ensured');
    logger.info({ sets: await migrate(deps.pool, entries) }, 'migrations applied');
  } catch (err) {
    await deps.stop();
    guardian.release();
    throw err;
  }

  // the API child listens on a private port; the public API port proxies to it (HTTP and WebSocket)
  const apiInternalPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: deps.natsUrl,
    DATABASE_URL: deps.databaseUrl,
    TELLY_DATA_DIR: config.dataDir,
    TELLY_API_INTERNAL_PORT: String(apiInternalPort),
    // graphql-js checks every type test against copies of itself unless told it runs in production
    NODE_ENV: process.env.NODE_ENV ?? 'production',
  };
  // no component sees another's password
  for (const user of NATS_USERS) delete env[passwordVariable(user)];
  const children = entries.map((entry) => {
    const own = deps.natsEnv(entry.natsUser);
    const childEnv = { ...env, ...own };
    if (own.NATS_USER !== undefined) {
      // a component given its own user connects as that user, with no other credential inherited
      delete childEnv.NATS_TOKEN;
      delete childEnv.NATS_CREDS;
    }
    return new ComponentProcess(entry, childEnv, logger);
  });
  try {
    for (const child of children) {
      await child.start();
      logger.info({ component: child.entry.name, pid: child.pid }, 'component started');
    }
  } catch (err) {
    await Promise.all(children.map((child) => child.stop()));
    await deps.stop();
    guardian.release();
    throw err;
  }

  const ownMetrics = createMetricsRegistry('telly-up');
  const health = async (): Promise<HealthReport> => {
    const report = await dependencyHealth.report();
    const components = await Promise.all(
      children.map(async (child) => [child, await child.health()] as const),
    );
    for (const [child, childReport] of components) {
      report.checks[`component:${child.entry.name}`] = {
        status: childReport.status,
        detail: { pid: child.pid, restarts: child.restarts, checks: childReport.checks },
      };
    }
    report.status = worstStatus(Object.values(report.checks).map((check) => check.status));
    return report;
  };
  const apiTarget = `http://127.0.0.1:${apiInternalPort}`;
  // kept-alive connections to the API: without them (a TCP connection per request) the proxy
  // added 2–3 ms to a sequential :predict call, 5–6 ms through it against 3 ms straight
  const apiAgent = new Agent({ keepAlive: true });
  const proxy = createProxyServer({ target: apiTarget, ws: true, xfwd: true, agent: apiAgent });
  const unavailable = (res: ServerResponse | Duplex) => {
    if (!(res instanceof ServerResponse)) return void res.destroy();
    if (res.headersSent) return void res.end();
    res.writeHead(502, { 'content-type': 'application/problem+json' });
    res.end(
      JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: 'the API is not up' }),
    );
  };
  proxy.on('error', (_err, _req, res) => unavailable(res));
  const upgraded = new Set<Duplex>();
  const observability = await serveObservability(
    {
      health,
      fallback: (req, res) => proxy.web(req, res),
      upgrade: (req, socket, head) => {
        upgraded.add(socket);
        socket.once('close', () => upgraded.delete(socket));
        proxy.ws(req, socket, head);
      },
      metricsContentType: ownMetrics.contentType,
      metrics: async () => {
        const all: MetricsJson[] = [await ownMetrics.getMetricsAsJSON()];
        for (const child of children) all.push(await child.metrics());
        return AggregatorRegistry.aggregate(all).metrics();
      },
    },
    { port: config.apiPort, host: config.bindAddress },
  );
  const apiUrl = `http://${reachableHost(config.bindAddress)}:${observability.port}`;

  let stopped: Promise<void> | undefined;
  return {
    apiUrl,
    natsUrl: deps.natsUrl,
    databaseUrl: deps.databaseUrl,
    endpoints: children.flatMap((child) => child.endpoints),
    health,
    stop() {
      stopped ??= (async () => {
        // no new connections; the API and bridges drain (together) before the processors behind them
        const closing = observability.close();
        await Promise.all(children.filter((c) => c.entry.edge).map((c) => c.stop(EDGE_DRAIN_MS)));
        for (const socket of upgraded) socket.destroy(); // WebSockets the API did not close
        proxy.close();
        apiAgent.destroy();
        await closing;
        await Promise.all(children.filter((c) => !c.entry.edge).map((c) => c.stop(PROCESSOR_DRAIN_MS)));
        await deps.stop();
        guardian.release();
      })();
      return stopped;
    },
    kill() {
      for (const child of children) child.kill();
      deps.kill();
      guardian.release();
    },
  };
}

/** How this machine reaches a listener bound to `address` (every interface: loopback). */
function reachableHost(address: string): string {
  if (address === '0.0.0.0' || address === '::') return '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * A small process that outlives this one: if the supervisor is killed (SIGKILL cannot be
 * handled), it stops the managed servers; components exit by themselves (component-host.ts).
 */
function startGuardian(): { watch: WatchServer; release(): void } {
  const child = fork(fileURLToPath(new URL('./guardian.ts', import.meta.url)), [], {
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  child.unref();
  const send = (message: GuardianMessage) => {
    if (child.connected) child.send(message);
  };
  return {
    watch(name, server) {
      const pid = server.pid;
      if (pid !== undefined)
        send({ type: 'watch', name, pid, signal: server.options.stopSignal ?? 'SIGTERM' });
    },
    release() {
      send({ type: 'release' });
      if (child.connected) child.disconnect();
    },
  };
}
