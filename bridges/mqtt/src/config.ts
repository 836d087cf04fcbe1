import { ConfigError, envPort } from '@telly/runtime';

export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_MQTT_WS_PORT = 8083;
export const DEFAULT_MQTT_TLS_PORT = 8883;
/** WebSocket path of MQTT over WebSocket. */
export const MQTT_WS_PATH = '/mqtt';

export interface MqttConfig {
  natsUrl: string;
  port: number;
  wsPort: number;
  /** TLS listener, when both files are given. */
  tls: { port: number; certFile: string; keyFile: string } | undefined;
}

export function parseMqttConfig(env: NodeJS.ProcessEnv): MqttConfig {
  const natsUrl = env.NATS_URL;
  if (!natsUrl) throw new ConfigError('NATS_URL', 'is required');
  const certFile = env.TELLY_MQTT_TLS_CERT;
  const keyFile = env.TELLY_MQTT_TLS_KEY;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError(
      certFile ? 'TELLY_MQTT_TLS_KEY' : 'TELLY_MQTT_TLS_CERT',
      'TLS needs both a certificate and a key',
    );
  }
  return {
    natsUrl,
    port: envPort(env, 'TELLY_MQTT_PORT', DEFAULT_MQTT_PORT),
    wsPort: envPort(env, 'TELLY_MQTT_WS_PORT', DEFAULT_MQTT_WS_PORT),
    tls:
      certFile && keyFile
        ? { port: envPort(env, 'TELLY_MQTT_TLS_PORT', DEFAULT_MQTT_TLS_PORT), certFile, keyFile }
        : undefined,
  };
}
