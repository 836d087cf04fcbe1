import { readFile } from 'node:fs/promises';
import {
  type DurationOptions,
  errorPredicate,
  isDurationError,
  parseDuration,
  TellyError,
} from '@telly/schemas';

/** Options of a {@link ConfigError}: the cause, and the code of a more specific subclass. */
export interface ConfigErrorOptions<Code extends string> extends ErrorOptions {
  /** @default 'CONFIG_INVALID' */
  code?: Code;
}

/**
 * Thrown by `parseConfig` functions: names the variable and what is wrong with it. A setting with
 * a grammar of its own may throw a subclass with its own code (the API's `OidcConfigError`).
 */
export class ConfigError<Code extends string = 'CONFIG_INVALID'> extends TellyError<Code> {
  readonly variable: string;
  constructor(variable: string, message: string, options?: ConfigErrorOptions<Code>) {
    super(options?.code ?? ('CONFIG_INVALID' as Code), `${variable}: ${message}`, options);
    this.variable = variable;
  }
}

/** True when `err` is a {@link ConfigError}, of any subclass (optionally with the given code). */
export const isConfigError = errorPredicate<ConfigError<string>>(ConfigError);

/** A TCP/UDP port from `env[name]`, or `fallback` when unset. Port 0 means "any free port". */
export function envPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(name, `must be a port number 0-65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

/** Inclusive bounds of {@link envInteger}. */
export interface IntegerBounds {
  /** @default 1 */
  min?: number;
  /** @default Number.MAX_SAFE_INTEGER */
  max?: number;
}

/** A whole number from `env[name]` within `bounds`, or `fallback` when unset. */
export function envInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: IntegerBounds = {},
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * A duration in ms from `env[name]` in the one duration grammar (`"10s"`, `"500ms"`,
 * `parseDuration` of `@telly/schemas`) within `options`, or `fallback` when unset.
 */
export function envDuration(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  options?: DurationOptions,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return parseDuration(raw, options);
  } catch (err) {
    if (isDurationError(err)) throw new ConfigError(name, err.message, { cause: err });
    throw err;
  }
}

/** A URL from `env[name]` with one of `protocols`, or undefined when unset. */
export function envUrl(env: NodeJS.ProcessEnv, name: string, protocols: string[]): URL | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL, got ${JSON.stringify(raw)}`);
  }
  if (!protocols.includes(url.protocol.replace(/:$/, ''))) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${url.protocol}`);
  }
  return url;
}

/** One of `allowed` from `env[name]`, or `fallback`. */
export function envEnum<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T))
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got ${raw}`);
  return raw as T;
}

/**
 * A comma-separated list of URLs from `env[name]` (a NATS cluster's seed servers), each with one
 * of `protocols`; empty when unset.
 */
export function envUrlList(env: NodeJS.ProcessEnv, name: string, protocols: string[]): URL[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => envUrl({ [name]: item }, name, protocols) as URL);
}

/** A certificate and key pair of PEM files, named by two variables that must be set together. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** `certVariable` and `keyVariable` as a {@link TlsFiles} pair, undefined when both are unset. */
export function envTlsFiles(
  env: NodeJS.ProcessEnv,
  certVariable: string,
  keyVariable: string,
): TlsFiles | undefined {
  const certFile = env[certVariable] || undefined;
  const keyFile = env[keyVariable] || undefined;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError(certFile ? keyVariable : certVariable, 'TLS needs both a certificate and a key');
  }
  return certFile && keyFile ? { certFile, keyFile } : undefined;
}

/** Reads a {@link TlsFiles} pair; a file that cannot be read is a `ConfigError` naming its variable. */
export async function readTlsFiles(
  files: TlsFiles,
  certVariable: string,
  keyVariable: string,
): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (file: string, variable: string) =>
    readFile(file).catch((err: unknown) => {
      throw new ConfigError(variable, `cannot read ${file}: ${err instanceof Error ? err.message : err}`);
    });
  const [cert, key] = await Promise.all([
    read(files.certFile, certVariable),
    read(files.keyFile, keyVariable),
  ]);
  return { cert, key };
}
