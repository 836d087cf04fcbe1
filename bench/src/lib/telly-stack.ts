// A fresh Telly with the production settings — the real `telly up` (managed nats-server with
// sync_interval always, durable embedded Postgres, every component) on free ports — plus what
// a benchmark needs beside the public ports: the database and NATS URLs, the process tree, and
// optionally CPU profiles of every Node process.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, platformNats } from '@telly/deploy';
import { type Platform, startPlatform } from '@telly/deploy/testing';
import { type ClusterStack, startClusterStack } from '@telly/deploy/testing/cluster';
import { NatsServer } from '@telly/harness';
import type { NatsConfig } from '@telly/runtime';
import { type ProvisionedFleet, provisionFleet } from './simulator.ts';

export interface TellyStack extends AsyncDisposable {
  platform: Platform;
  databaseUrl: string;
  natsUrl: string;
  /** How the bench reads JetStream: as the operator (`telly-admin`). */
  nats: NatsConfig;
  /**
   * The `telly up` process, and the nats-server when it runs apart: their trees (components,
   * nats-server, Postgres) are what Telly costs.
   */
  roots: number[];
  /** Component name by pid, to label CPU per process. */
  names: Map<number, string>;
  versions: { postgres: string; natsServer: string };
  /** Every instance's MQTT bridge (one, or one per supervisor in cluster mode). */
  mqttUrls: string[];
  stop(): Promise<void>;
}

export interface TellyStackOptions {
  /** Every Node process of the stack writes a `.cpuprofile` here when it exits. */
  profileDir?: string | undefined;
  /** Diagnostic: a nats-server of our own with this sync_interval, given to telly up as NATS_URL. */
  natsSyncInterval?: string | undefined;
  signal?: AbortSignal;
  /**
   * Cluster mode instead: a 3-server NATS cluster (R3 streams, sync_interval always), a Postgres
   * of its own, and this many `telly up` supervisors on them (every component once in each).
   */
  clusterInstances?: number | undefined;
  /** More of telly up's environment (e.g. `TELLY_KAFKA_BROKERS`, which starts the Kafka bridge). */
  env?: NodeJS.ProcessEnv;
}

interface CheckDetail {
  url?: string;
  pid?: number;
  server?: string;
  version?: string;
}

export async function startTelly(options: TellyStackOptions = {}): Promise<TellyStack> {
  options.signal?.throwIfAborted();
  if (options.clusterInstances) return startCluster(options.clusterInstances);
  // our own data dir with a known Postgres password, so the benchmark can query the projection
  const dataDir = await mkdtemp(join(tmpdir(), 'telly-bench-'));
  await chmod(dataDir, 0o755); // as root, Postgres runs as the postgres user, which must reach it
  const password = randomBytes(18).toString('base64url');
  await mkdir(join(dataDir, 'secrets'), { mode: 0o700 });
  await writeFile(join(dataDir, 'secrets', 'postgres-password'), `${password}\n`, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { ...options.env, TELLY_DATA_DIR: dataDir };
  if (options.profileDir) {
    await mkdir(options.profileDir, { recursive: true });
    env.NODE_OPTIONS = [process.env.NODE_OPTIONS, '--cpu-prof', `--cpu-prof-dir=${options.profileDir}`]
      .filter(Boolean)
      .join(' ');
  }
  let nats: NatsServer | undefined;
  let platform: Platform;
  try {
    if (options.natsSyncInterval) {
      nats = await NatsServer.start({ syncInterval: options.natsSyncInterval });
      env.NATS_URL = nats.url;
    }
    platform = await startPlatform(env);
  } catch (err) {
    await nats?.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await platform.stop();
      await nats?.stop();
      await rm(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    const { body } = await platform.health();
    const detail = (name: string): CheckDetail => (body.checks[name]?.detail ?? {}) as CheckDetail;
    const databaseUrl = new URL(detail('postgres').url ?? '');
    databaseUrl.password = password;
    const names = new Map<number, string>([[platform.child.pid!, 'telly-up']]);
    if (nats?.process.pid) names.set(nats.process.pid, 'nats');
    for (const [check, result] of Object.entries(body.checks)) {
      const pid = (result.detail as CheckDetail | undefined)?.pid;
      if (pid) names.set(pid, check.replace(/^component:/, ''));
    }
    if (options.profileDir) {
      await writeFile(
        join(options.profileDir, 'pids.json'),
        JSON.stringify(Object.fromEntries(names), null, 2),
      );
    }
    return {
      platform,
      databaseUrl: databaseUrl.toString(),
      natsUrl: detail('nats').url ?? `nats://127.0.0.1:${platform.ports.nats}`,
      nats: (await platformNats(parseConfig(platform.env))).nats,
      roots: [platform.child.pid!, ...(nats?.process.pid ? [nats.process.pid] : [])],
      mqttUrls: [`mqtt://127.0.0.1:${platform.ports.mqtt}`],
      names,
      versions: {
        postgres: detail('postgres').version ?? 'unknown',
        natsServer: detail('nats').server ?? 'unknown',
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** {@link startTelly} in cluster mode: every supervisor, nats-server and Postgres are the roots. */
async function startCluster(instances: number): Promise<TellyStack> {
  const cluster: ClusterStack = await startClusterStack({ instances });
  try {
    const names = new Map<number, string>();
    for (const [i, server] of cluster.nats.servers.entries())
      if (server.process.pid) names.set(server.process.pid, `nats-${i + 1}`);
    for (const [i, platform] of cluster.instances.entries()) {
      names.set(platform.child.pid!, `telly-up@${i + 1}`);
      const { body } = await platform.health();
      for (const [check, result] of Object.entries(body.checks)) {
        const pid = (result.detail as CheckDetail | undefined)?.pid;
        if (pid && check.startsWith('component:'))
          names.set(pid, `${check.slice('component:'.length)}@${i + 1}`);
      }
    }
    const { body } = await cluster.instances[0]!.health();
    const detail = (name: string): CheckDetail => (body.checks[name]?.detail ?? {}) as CheckDetail;
    const stop = () => cluster.stop();
    return {
      platform: cluster.instances[0]!,
      databaseUrl: cluster.databaseUrl,
      natsUrl: cluster.nats.url,
      nats: cluster.adminNats,
      roots: [
        ...cluster.instances.map((p) => p.child.pid!),
        ...cluster.nats.servers.flatMap((s) => (s.process.pid ? [s.process.pid] : [])),
        ...(cluster.postgres.process.pid ? [cluster.postgres.process.pid] : []),
      ],
      names,
      versions: {
        postgres: detail('postgres').version ?? 'unknown',
        natsServer: detail('nats').server ?? 'unknown',
      },
      mqttUrls: cluster.instances.map((p) => `mqtt://127.0.0.1:${p.ports.mqtt}`),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** Signs up a benchmark operator and provisions `devices` things connected to one channel. */
export async function provisionDevices(
  stack: TellyStack,
  devices: number,
  signal?: AbortSignal,
): Promise<ProvisionedFleet & { email: string; password: string }> {
  const email = `bench-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const fleet = await provisionFleet({
    api: stack.platform.apiUrl,
    email,
    password,
    devices,
    channelName: 'bench',
    namePrefix: 'bench',
    ...(signal ? { signal } : {}),
  });
  return { ...fleet, email, password };
}
