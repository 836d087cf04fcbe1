import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  parseAcceptPolicy,
  parseRateLimit,
  type RateLimit,
} from '@telly/bridge-core';
import {
  envDuration,
  envInteger,
  envPort,
  envTlsFiles,
  parseBindAddress,
  type TlsFiles,
} from '@telly/runtime';
import type { AcceptPolicy } from '@telly/schemas';

export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_MQTT_WS_PORT = 8083;
export const DEFAULT_MQTT_TLS_PORT = 8883;
/** WebSocket path of MQTT over WebSocket. */
export const MQTT_WS_PATH = '/mqtt';
/**
 * Largest MQTT packet read: the largest device message and room for its topic and headers. A
 * packet above it is refused from its fixed header, before authentication, on every listener.
 * @default DEFAULT_MAX_PAYLOAD_BYTES + 4 KiB
 */
export const DEFAULT_MQTT_MAX_PACKET_BYTES = DEFAULT_MAX_PAYLOAD_BYTES + 4 * 1024;
/** Time a connection has to send CONNECT (and a WebSocket its upgrade). @default 10 s */
export const DEFAULT_MQTT_CONNECT_TIMEOUT_MS = 10_000;
/** Connections not yet authenticated at once from one source address. @default 32 */
export const DEFAULT_MQTT_MAX_PENDING_PER_ADDRESS = 32;

/** The MQTT bridge's own settings (NATS is the runtime's). */
export interface MqttConfig {
  /** `TELLY_MQTT_PORT`. @default DEFAULT_MQTT_PORT */
  port: number;
  /** `TELLY_MQTT_WS_PORT`. @default DEFAULT_MQTT_WS_PORT */
  wsPort: number;
  /** `TELLY_BIND_ADDRESS`: where every listener binds. @default DEFAULT_BIND_ADDRESS (every interface) */
  host: string;
  /** TLS listener on `TELLY_MQTT_TLS_PORT`, when `TELLY_MQTT_TLS_CERT` and `TELLY_MQTT_TLS_KEY` are both set. */
  tls: (TlsFiles & { port: number }) | undefined;
  /** `TELLY_MQTT_MAX_PACKET_BYTES`: also the WebSocket frame limit. @default DEFAULT_MQTT_MAX_PACKET_BYTES */
  maxPacketBytes: number;
  /** `TELLY_MQTT_CONNECT_TIMEOUT`, a duration (`"10s"`). @default DEFAULT_MQTT_CONNECT_TIMEOUT_MS */
  connectTimeoutMs: number;
  /** `TELLY_MQTT_MAX_PENDING_PER_ADDRESS`. @default DEFAULT_MQTT_MAX_PENDING_PER_ADDRESS */
  maxPendingPerAddress: number;
  /** `TELLY_RATE_PER_SECOND`, `TELLY_RATE_BURST`: each thing's limit. */
  rateLimit: RateLimit;
  /** `TELLY_ACCEPT_PAST`, `TELLY_ACCEPT_FUTURE`, `TELLY_ACCEPT_MONTHS`: the record times accepted. */
  accept: AcceptPolicy;
}

export function parseMqttConfig(env: NodeJS.ProcessEnv): MqttConfig {
  const tls = envTlsFiles(env, 'TELLY_MQTT_TLS_CERT', 'TELLY_MQTT_TLS_KEY');
  return {
    port: envPort(env, 'TELLY_MQTT_PORT', DEFAULT_MQTT_PORT),
    wsPort: envPort(env, 'TELLY_MQTT_WS_PORT', DEFAULT_MQTT_WS_PORT),
    host: parseBindAddress(env),
    tls: tls ? { ...tls, port: envPort(env, 'TELLY_MQTT_TLS_PORT', DEFAULT_MQTT_TLS_PORT) } : undefined,
    // an MQTT packet is at most 256 MiB (a 4-byte Remaining Length)
    maxPacketBytes: envInteger(env, 'TELLY_MQTT_MAX_PACKET_BYTES', DEFAULT_MQTT_MAX_PACKET_BYTES, {
      min: 1024,
      max: 268_435_460,
    }),
    connectTimeoutMs: envDuration(env, 'TELLY_MQTT_CONNECT_TIMEOUT', DEFAULT_MQTT_CONNECT_TIMEOUT_MS, {
      min: 100,
      max: 600_000,
    }),
    maxPendingPerAddress: envInteger(
      env,
      'TELLY_MQTT_MAX_PENDING_PER_ADDRESS',
      DEFAULT_MQTT_MAX_PENDING_PER_ADDRESS,
    ),
    rateLimit: parseRateLimit(env),
    accept: parseAcceptPolicy(env),
  };
}
