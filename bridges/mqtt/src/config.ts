import { envPort, envTlsFiles, type TlsFiles } from '@telly/runtime';

export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_MQTT_WS_PORT = 8083;
export const DEFAULT_MQTT_TLS_PORT = 8883;
/** WebSocket path of MQTT over WebSocket. */
export const MQTT_WS_PATH = '/mqtt';

/** The MQTT bridge's own settings (NATS is the runtime's). */
export interface MqttConfig {
  /** `TELLY_MQTT_PORT`. @default DEFAULT_MQTT_PORT */
  port: number;
  /** `TELLY_MQTT_WS_PORT`. @default DEFAULT_MQTT_WS_PORT */
  wsPort: number;
  /** TLS listener on `TELLY_MQTT_TLS_PORT`, when `TELLY_MQTT_TLS_CERT` and `TELLY_MQTT_TLS_KEY` are both set. */
  tls: (TlsFiles & { port: number }) | undefined;
}

export function parseMqttConfig(env: NodeJS.ProcessEnv): MqttConfig {
  const tls = envTlsFiles(env, 'TELLY_MQTT_TLS_CERT', 'TELLY_MQTT_TLS_KEY');
  return {
    port: envPort(env, 'TELLY_MQTT_PORT', DEFAULT_MQTT_PORT),
    wsPort: envPort(env, 'TELLY_MQTT_WS_PORT', DEFAULT_MQTT_WS_PORT),
    tls: tls ? { ...tls, port: envPort(env, 'TELLY_MQTT_TLS_PORT', DEFAULT_MQTT_TLS_PORT) } : undefined,
  };
}
