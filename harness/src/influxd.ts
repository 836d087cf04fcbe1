import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, MissingBinaryError } from './binaries.ts';
import { freePort } from './free-port.ts';
import { ManagedProcess } from './managed-process.ts';
import { httpOk } from './wait.ts';

/** The InfluxDB release `deploy/scripts/influxd.sh` builds and the Influx sink tests run against. */
export const INFLUXD_VERSION = '2.8.0';
/** How long influxd may take to answer `/health` (a first start creates its stores). */
export const INFLUXD_START_TIMEOUT_MS = 30_000;

/** Where `influxd` is, or why it cannot be here (then tests against it are skipped). */
export type InfluxdBinary =
  | { bin: string; unavailable?: undefined }
  | { bin?: undefined; unavailable: string };

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `influxd` setup.sh built: `TELLY_INFLUXD_BIN`, else the cached build. When the build
 * cannot be done on this machine (no Go or Rust, another platform) the reason is returned, for
 * the caller to skip with. Throws {@link MissingBinaryError} when the build failed where it is
 * known to work, or was never attempted (`npm run setup` does it).
 */
export function findInfluxd(env: NodeJS.ProcessEnv = process.env): InfluxdBinary {
  if (env.TELLY_INFLUXD_BIN) {
    if (executable(env.TELLY_INFLUXD_BIN)) return { bin: env.TELLY_INFLUXD_BIN };
    throw new MissingBinaryError(`TELLY_INFLUXD_BIN=${env.TELLY_INFLUXD_BIN} is not an executable`);
  }
  const base = join(cacheDir(env), `influxd-${INFLUXD_VERSION}`);
  if (executable(join(base, 'influxd'))) return { bin: join(base, 'influxd') };
  const read = (path: string) => readFileSync(path, 'utf8').trim();
  if (existsSync(`${base}.failed`)) {
    throw new MissingBinaryError(
      `influxd ${INFLUXD_VERSION} failed to build on a platform where it builds: ${read(`${base}.failed`)}; fix it and run \`npm run setup\``,
    );
  }
  if (existsSync(`${base}.unavailable`)) {
    return { unavailable: `influxd ${INFLUXD_VERSION} cannot be built here: ${read(`${base}.unavailable`)}` };
  }
  throw new MissingBinaryError(`influxd ${INFLUXD_VERSION} not built: run \`npm run setup\``);
}

export interface InfluxdOptions {
  /** @default {@link findInfluxd}; throws when it is unavailable */
  bin?: string;
  /** @default 'telly' */
  org?: string;
  /** @default 'telly' */
  bucket?: string;
  /** The operator token onboarding creates. @default a fixed test token */
  token?: string;
}

type Onboarding = Required<Pick<InfluxdOptions, 'org' | 'bucket' | 'token'>>;

/**
 * A real InfluxDB 2.x (`influxd`) on a free port, in a temp dir, onboarded with one org, bucket
 * (infinite retention) and operator token. Usage reporting and the UI are off.
 */
export class Influxd {
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  readonly token: string;
  readonly process: ManagedProcess;
  readonly #dir: string;

  private constructor(url: string, onboarding: Onboarding, dir: string, process: ManagedProcess) {
    this.url = url;
    ({ org: this.org, bucket: this.bucket, token: this.token } = onboarding);
    this.#dir = dir;
    this.process = process;
  }

  static async start(options: InfluxdOptions = {}): Promise<Influxd> {
    let bin = options.bin;
    if (bin === undefined) {
      const found = findInfluxd();
      if (found.unavailable !== undefined) throw new MissingBinaryError(found.unavailable);
      bin = found.bin;
    }
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'telly-influxd-'));
    const process = new ManagedProcess({
      name: 'influxd',
      command: bin,
      args: [
        `--bolt-path=${join(dir, 'influxd.bolt')}`,
        `--sqlite-path=${join(dir, 'influxd.sqlite')}`,
        `--engine-path=${join(dir, 'engine')}`,
        `--http-bind-address=127.0.0.1:${port}`,
        '--reporting-disabled',
        '--ui-disabled',
        '--log-level=error',
      ],
      // no config file of the user's (influxd reads one from its working directory or here)
      spawn: { cwd: dir, env: { ...globalThis.process.env, INFLUXD_CONFIG_PATH: dir } },
    });
    const onboarding = {
      org: options.org ?? 'telly',
      bucket: options.bucket ?? 'telly',
      token: options.token ?? 'telly-test-token',
    };
    const influxd = new Influxd(`http://127.0.0.1:${port}`, onboarding, dir, process);
    try {
      await influxd.#launch();
      await influxd.#onboard();
    } catch (err) {
      await influxd.stop();
      throw err;
    }
    return influxd;
  }

  /** Starts the process again on the same port and data, after `process.stop()` (an outage). */
  async resume(): Promise<void> {
    await this.#launch();
  }

  #launch(): Promise<void> {
    return this.process.launch(() => httpOk(`${this.url}/health`), { timeoutMs: INFLUXD_START_TIMEOUT_MS });
  }

  async #onboard(): Promise<void> {
    const res = await fetch(`${this.url}/api/v2/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'telly',
        password: 'telly-test-password',
        org: this.org,
        bucket: this.bucket,
        token: this.token,
        retentionPeriodSeconds: 0,
      }),
    });
    if (res.status !== 201) throw new Error(`influxd onboarding: HTTP ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  }

  async stop(): Promise<void> {
    await this.process.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
