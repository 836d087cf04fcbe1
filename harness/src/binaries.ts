import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TellyError } from '@telly/schemas';

/** The oldest nats-server Telly runs on: per-message TTL and priority groups need 2.11, timed commands' message schedules 2.12. */
export const MIN_NATS_SERVER_VERSION = [2, 12, 0] as const;

/** Thrown when a server binary the project needs is missing or too old. */
export class MissingBinaryError extends TellyError<'MISSING_BINARY'> {
  constructor(message: string, options?: ErrorOptions) {
    super('MISSING_BINARY', message, options);
  }
}

/** Where `deploy/scripts/setup.sh` caches what it installs. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TELLY_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'telly');
}

function parseVersion(text: string): number[] | undefined {
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match ? match.slice(1, 4).map(Number) : undefined;
}

function atLeast(version: number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = version[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** `nats-server --version` of a binary, e.g. `2.14.9`. */
export function natsServerVersion(bin: string): string {
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = parseVersion(out);
  if (!version) throw new MissingBinaryError(`cannot read the version of ${bin}: ${out.trim()}`);
  return version.join('.');
}

/**
 * Finds a nats-server ≥ 2.12: `TELLY_NATS_SERVER_BIN`, then the newest one setup.sh cached,
 * then `nats-server` on PATH.
 */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  if (env.TELLY_NATS_SERVER_BIN) candidates.push(env.TELLY_NATS_SERVER_BIN);
  const cache = cacheDir(env);
  if (existsSync(cache)) {
    const cached = readdirSync(cache)
      .filter((name) => name.startsWith('nats-server-'))
      .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
    for (const dir of cached) candidates.push(join(cache, dir, 'nats-server'));
  }
  candidates.push('nats-server');
  const tried: string[] = [];
  for (const bin of candidates) {
    try {
      const version = natsServerVersion(bin);
      if (atLeast(parseVersion(version)!, MIN_NATS_SERVER_VERSION)) return bin;
      tried.push(`${bin} is ${version}`);
    } catch {
      tried.push(`${bin} not runnable`);
    }
  }
  throw new MissingBinaryError(
    `no nats-server >= ${MIN_NATS_SERVER_VERSION.join('.')} found (${tried.join('; ')}); run \`npm run setup\``,
  );
}

/** Absolute path of a Debian-packaged server, or a clear error naming the package. */
export function findSystemBinary(name: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const path = join(dir, name);
    if (dir && existsSync(path)) return path;
  }
  throw new MissingBinaryError(
    `${name} not found: install the Debian package ${debianPackage} (npm run setup does)`,
  );
}
