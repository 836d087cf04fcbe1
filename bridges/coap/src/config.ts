import { isIP } from 'node:net';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  parseAcceptPolicy,
  parseRateLimit,
  type RateLimit,
} from '@telly/bridge-core';
import { ConfigError, envDuration, envInteger, envPort, parseBindAddress } from '@telly/runtime';
import type { AcceptPolicy } from '@telly/schemas';

/** The CoAP port (RFC 7252 §6.1). @default 5683 */
export const DEFAULT_COAP_PORT = 5683;
/** Observations open at once on one bridge instance (each holds a NATS consumer). @default 10000 */
export const DEFAULT_COAP_MAX_OBSERVERS = 10_000;
/** Block1 uploads being reassembled at once; each holds up to the message size limit. @default 256 */
export const DEFAULT_COAP_MAX_UPLOADS = 256;
/**
 * How long a Block1 upload may pause between two blocks before its parts are dropped, and how
 * long a Block2 representation is kept for the client to fetch its remaining blocks. @default 60 s
 */
export const DEFAULT_COAP_TRANSFER_TIMEOUT_MS = 60_000;

/** The CoAP bridge's own settings (NATS is the runtime's), from {@link parseCoapConfig}. */
export interface CoapConfig {
  /** `TELLY_COAP_PORT`. @default {@link DEFAULT_COAP_PORT} */
  port: number;
  /**
   * `TELLY_COAP_HOST`, else `TELLY_BIND_ADDRESS`. `0.0.0.0` (every interface) binds a dual-stack
   * `::` socket, so IPv4 and IPv6 devices reach one port. @default 0.0.0.0
   */
  host: string;
  /** `TELLY_COAP_MAX_OBSERVERS`. @default {@link DEFAULT_COAP_MAX_OBSERVERS} */
  maxObservers: number;
  /** `TELLY_COAP_MAX_UPLOADS`. @default {@link DEFAULT_COAP_MAX_UPLOADS} */
  maxUploads: number;
  /** `TELLY_COAP_TRANSFER_TIMEOUT`, a duration. @default {@link DEFAULT_COAP_TRANSFER_TIMEOUT_MS} */
  transferTimeoutMs: number;
  /** Largest device message, also the largest Block1 upload. @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxPayloadBytes: number;
  /** `TELLY_RATE_PER_SECOND`, `TELLY_RATE_BURST`: each thing's limit. */
  rateLimit: RateLimit;
  /** `TELLY_ACCEPT_PAST`, `TELLY_ACCEPT_FUTURE`, `TELLY_ACCEPT_MONTHS`: the record times accepted. */
  accept: AcceptPolicy;
}

function coapHost(env: NodeJS.ProcessEnv): string {
  const host = env.TELLY_COAP_HOST?.trim();
  if (!host) return parseBindAddress(env);
  if (isIP(host) === 0) {
    throw new ConfigError('TELLY_COAP_HOST', `must be an IP address such as :: or 127.0.0.1 (got ${host})`);
  }
  return host;
}

/** Reads the CoAP bridge's settings from the environment once, failing fast on a bad value. */
export function parseCoapConfig(env: NodeJS.ProcessEnv): CoapConfig {
  return {
    port: envPort(env, 'TELLY_COAP_PORT', DEFAULT_COAP_PORT),
    host: coapHost(env),
    maxObservers: envInteger(env, 'TELLY_COAP_MAX_OBSERVERS', DEFAULT_COAP_MAX_OBSERVERS),
    maxUploads: envInteger(env, 'TELLY_COAP_MAX_UPLOADS', DEFAULT_COAP_MAX_UPLOADS),
    transferTimeoutMs: envDuration(env, 'TELLY_COAP_TRANSFER_TIMEOUT', DEFAULT_COAP_TRANSFER_TIMEOUT_MS, {
      min: 1_000,
      max: 600_000,
    }),
    maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
    rateLimit: parseRateLimit(env),
    accept: parseAcceptPolicy(env),
  };
}
