import { ConfigError, envUrl } from '@telly/runtime';

/** @default organization written to when `INFLUX_ORG` is unset */
export const DEFAULT_INFLUX_ORG = 'telly';
/** @default bucket written to when `INFLUX_BUCKET` is unset */
export const DEFAULT_INFLUX_BUCKET = 'telly';

/** What the InfluxDB projection reads from the environment. */
export interface InfluxConfig {
  /** `INFLUX_URL`: InfluxDB 2.x (or anything serving `/api/v2/write`), http or https. */
  url: string;
  /** `INFLUX_TOKEN`: API token; unset for servers without auth (VictoriaMetrics). */
  token: string | undefined;
  /** `INFLUX_ORG`. @default DEFAULT_INFLUX_ORG */
  org: string;
  /** `INFLUX_BUCKET`. @default DEFAULT_INFLUX_BUCKET */
  bucket: string;
}

/**
 * True when the InfluxDB sink is switched on (`INFLUX_URL` set): `telly up` registers the
 * `telemetry-influx` component only then.
 */
export function influxConfigured(env: NodeJS.ProcessEnv): boolean {
  return (env.INFLUX_URL ?? '').trim() !== '';
}

function name(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (raw.trim() !== raw || raw.length > 256) {
    throw new ConfigError(
      variable,
      `must be a name without surrounding whitespace, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/**
 * Parses the projection's environment once, throwing a {@link ConfigError} that names the
 * variable: `INFLUX_URL` is required, the rest have defaults (NATS is the runtime's).
 */
export function parseInfluxConfig(env: NodeJS.ProcessEnv): InfluxConfig {
  const url = envUrl(env, 'INFLUX_URL', ['http', 'https']);
  if (!url)
    throw new ConfigError('INFLUX_URL', 'is required (the InfluxDB base URL, e.g. http://localhost:8086)');
  if (url.username || url.password) {
    throw new ConfigError('INFLUX_URL', 'must not carry credentials; put the token in INFLUX_TOKEN');
  }
  return {
    url: url.href.replace(/\/+$/, ''),
    token: env.INFLUX_TOKEN || undefined,
    org: name(env, 'INFLUX_ORG', DEFAULT_INFLUX_ORG),
    bucket: name(env, 'INFLUX_BUCKET', DEFAULT_INFLUX_BUCKET),
  };
}
