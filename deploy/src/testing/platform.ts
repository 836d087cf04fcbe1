// Test support: the real `telly up` CLI on free ports in a temp data dir, driven over its public
// interfaces (GraphQL, /healthz, device ports) like an operator and a fleet would.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@telly/harness';

const CLI = fileURLToPath(new URL('../bin/telly.ts', import.meta.url));

export interface Health {
  status: string;
  checks: Record<string, { status: string; detail?: { pid?: number; restarts?: number; url?: string } }>;
}

/** How a `telly` command ended, and what it wrote. */
export interface TellyRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a `telly` command to its end, with `env` over this process's environment. */
export function runTelly(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TellyRun> {
  return new Promise((resolve, reject) => {
    const run = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, LOG_PRETTY: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    run.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    run.once('error', reject);
    run.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Platform {
  apiUrl: string;
  ports: { api: number; nats: number; mqtt: number; mqttWs: number; http: number; coap: number };
  child: ChildProcess;
  /** The environment `telly up` runs with: other `telly` commands given it reach this platform. */
  env: NodeJS.ProcessEnv;
  /** Runs another `telly` command (replay, verify…) against this platform. */
  cli(args: string[]): Promise<TellyRun>;
  output(): string;
  health(): Promise<{ code: number; body: Health }>;
  /** POST /graphql; throws with the errors when there are any. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<T>;
  /** SIGINT, then waits for the exit code; removes the data dir unless the caller gave it. */
  stop(): Promise<number | null>;
}

export interface StartPlatformOptions {
  /** How long `telly up` may take to become healthy. @default 90 s */
  readonly healthyWithinMs?: number;
}

/**
 * Starts `telly up` and resolves once /healthz says every dependency and component is up. `env`
 * overrides what it runs with: a `TELLY_DATA_DIR` given is the caller's (kept at `stop()`), and
 * the `env` of a stopped platform starts it again on the same ports and data.
 */
export async function startPlatform(
  env: NodeJS.ProcessEnv = {},
  options: StartPlatformOptions = {},
): Promise<Platform> {
  const ownDataDir = env.TELLY_DATA_DIR === undefined;
  const dataDir = env.TELLY_DATA_DIR ?? (await mkdtemp(join(tmpdir(), 'telly-platform-')));
  await chmod(dataDir, 0o755); // as root, Postgres runs as the postgres user, which must reach it
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_PRETTY: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    TELLY_DATA_DIR: dataDir,
    TELLY_API_PORT: String(await freePort()),
    TELLY_NATS_PORT: String(await freePort()),
    TELLY_POSTGRES_PORT: String(await freePort()),
    TELLY_MQTT_PORT: String(await freePort()),
    TELLY_MQTT_WS_PORT: String(await freePort()),
    TELLY_HTTP_PORT: String(await freePort()),
    // UDP: a port free for TCP is, in practice, free for UDP too
    TELLY_COAP_PORT: String(await freePort()),
    ...env,
  };
  const ports = {
    api: Number(childEnv.TELLY_API_PORT),
    nats: Number(childEnv.TELLY_NATS_PORT),
    mqtt: Number(childEnv.TELLY_MQTT_PORT),
    mqttWs: Number(childEnv.TELLY_MQTT_WS_PORT),
    http: Number(childEnv.TELLY_HTTP_PORT),
    coap: Number(childEnv.TELLY_COAP_PORT),
  };
  const child = spawn(process.execPath, [CLI, 'up'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const health = async () => {
    const res = await fetch(`${apiUrl}/healthz`);
    return { code: res.status, body: (await res.json()) as Health };
  };
  let exit: Promise<number | null> | undefined;
  const stop = async () => {
    exit ??= new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill('SIGINT');
    });
    const code = await exit;
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    return code;
  };
  // an exit ends the wait at once (a probe's error would only be retried until the timeout)
  const exited = () =>
    child.exitCode === null ? undefined : new Error(`telly up exited with ${child.exitCode}:\n${output}`);
  await waitFor(
    async () => {
      const h = await health().catch(() => undefined);
      return h?.code === 200;
    },
    { timeoutMs: options.healthyWithinMs ?? 90_000, what: 'telly up healthy', giveUp: exited },
  ).catch(async (err: unknown) => {
    const early = exited();
    if (early) throw early;
    child.kill('SIGKILL');
    throw new Error(`telly up did not become healthy:\n${output}`, { cause: err });
  });
  return {
    apiUrl,
    ports,
    child,
    env: childEnv,
    cli: (args) => runTelly(args, childEnv),
    output: () => output,
    health,
    async gql<T>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
      const res = await fetch(`${apiUrl}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown[] };
      if (body.errors?.length || !body.data)
        throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return body.data;
    },
    stop,
  };
}

/** Signs up, creates a channel and a thing connected to it: what a device needs. */
export async function provisionDevice(
  platform: Platform,
  email = `owner-${Date.now()}@example.com`,
): Promise<{ token: string; channelId: string; thingId: string; key: string }> {
  const { signup } = await platform.gql<{ signup: { accessToken: string } }>(
    `mutation($e: String!) { signup(input: { email: $e, password: "correct horse battery staple", tenantName: "farm" }) { accessToken } }`,
    { e: email },
  );
  const token = signup.accessToken;
  const { createChannel } = await platform.gql<{ createChannel: { id: string } }>(
    'mutation { createChannel(input: { name: "greenhouse" }) { id } }',
    {},
    token,
  );
  const { createThing } = await platform.gql<{ createThing: { key: string; thing: { id: string } } }>(
    'mutation { createThing(input: { name: "led-1" }) { key thing { id } } }',
    {},
    token,
  );
  await platform.gql(
    'mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }',
    { t: createThing.thing.id, c: createChannel.id },
    token,
  );
  return { token, channelId: createChannel.id, thingId: createThing.thing.id, key: createThing.key };
}
