import { resolve } from 'node:path';
import { ConfigError, envEnum, envPort, envUrl } from '@telly/runtime';

export const DEFAULT_API_PORT = 4000;
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_MQTT_WS_PORT = 8083;
export const DEFAULT_COAP_PORT = 5683;
export const DEFAULT_NATS_PORT = 4222;
export const DEFAULT_POSTGRES_PORT = 5433;
export const DEFAULT_DATA_DIR = '.telly';

export interface InfluxConfig {
  url: URL;
  token: string;
  org: string;
  bucket: string;
}

/** Everything `telly up` reads from the environment (docs/configuration.md), parsed once. */
export interface UpConfig {
  apiPort: number;
  httpPort: number;
  mqttPort: number;
  mqttWsPort: number;
  coapPort: number;
  /** Use this NATS server/cluster instead of starting one. */
  natsUrl: URL | undefined;
  /** Port of the managed nats-server when `natsUrl` is unset. */
  natsPort: number;
  /** Use this Postgres instead of the embedded one. */
  databaseUrl: URL | undefined;
  /** Port of the embedded Postgres when `databaseUrl` is unset. */
  postgresPort: number;
  influx: InfluxConfig | undefined;
  /** Absolute path of the state directory. */
  dataDir: string;
  /** Copies of every stream: 1 on one machine, 3 on a production cluster. */
  streamReplicas: 1 | 3 | 5;
}

export function parseConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): UpConfig {
  const influxUrl = envUrl(env, 'INFLUX_URL', ['http', 'https']);
  let influx: InfluxConfig | undefined;
  if (influxUrl) {
    for (const name of ['INFLUX_ORG', 'INFLUX_BUCKET'] as const) {
      if (!env[name]) throw new ConfigError(name, 'is required when INFLUX_URL is set');
    }
    influx = {
      url: influxUrl,
      token: env.INFLUX_TOKEN ?? '',
      org: env.INFLUX_ORG!,
      bucket: env.INFLUX_BUCKET!,
    };
  }
  return {
    apiPort: envPort(env, 'TELLY_API_PORT', DEFAULT_API_PORT),
    httpPort: envPort(env, 'TELLY_HTTP_PORT', DEFAULT_HTTP_PORT),
    mqttPort: envPort(env, 'TELLY_MQTT_PORT', DEFAULT_MQTT_PORT),
    mqttWsPort: envPort(env, 'TELLY_MQTT_WS_PORT', DEFAULT_MQTT_WS_PORT),
    coapPort: envPort(env, 'TELLY_COAP_PORT', DEFAULT_COAP_PORT),
    natsUrl: envUrl(env, 'NATS_URL', ['nats', 'tls', 'ws', 'wss']),
    natsPort: envPort(env, 'TELLY_NATS_PORT', DEFAULT_NATS_PORT),
    databaseUrl: envUrl(env, 'DATABASE_URL', ['postgres', 'postgresql']),
    postgresPort: envPort(env, 'TELLY_POSTGRES_PORT', DEFAULT_POSTGRES_PORT),
    influx,
    dataDir: resolve(cwd, env.TELLY_DATA_DIR || DEFAULT_DATA_DIR),
    streamReplicas: Number(envEnum(env, 'TELLY_STREAM_REPLICAS', ['1', '3', '5'], '1')) as 1 | 3 | 5,
  };
}
