import { parseAcceptPolicy, parseRateLimit, type RateLimit } from '@telly/bridge-core';
import { ConfigError, envEnum } from '@telly/runtime';
import { type AcceptPolicy, KAFKA_TOPIC_PATTERN } from '@telly/schemas';

/** Where refused records go, with why. @default 'telly.rejections' */
export const DEFAULT_REJECTIONS_TOPIC = 'telly.rejections';
/** The client id the bridge names itself with to the brokers. @default 'telly' */
export const DEFAULT_CLIENT_ID = 'telly';
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** How the bridge reaches the deployment's Kafka. */
export interface KafkaConnection {
  /** `TELLY_KAFKA_BROKERS`: `host:port` seeds, comma-separated. */
  brokers: string[];
  /** `TELLY_KAFKA_CLIENT_ID`. @default {@link DEFAULT_CLIENT_ID} */
  clientId: string;
  /** `TELLY_KAFKA_TLS=true`, or a CA bundle (PEM file) in `TELLY_KAFKA_TLS_CA` (which implies TLS). */
  tls: { caFile?: string } | undefined;
  /** `TELLY_KAFKA_SASL_MECHANISM` with `TELLY_KAFKA_SASL_USERNAME` and `TELLY_KAFKA_SASL_PASSWORD`. */
  sasl: { mechanism: SaslMechanism; username: string; password: string } | undefined;
}

/** The Kafka bridge's own settings (NATS is the runtime's), from {@link parseKafkaConfig}. */
export interface KafkaBridgeConfig {
  kafka: KafkaConnection;
  /** `TELLY_KAFKA_REJECTIONS_TOPIC`. @default {@link DEFAULT_REJECTIONS_TOPIC} */
  rejectionsTopic: string;
  /** `TELLY_RATE_PER_SECOND`, `TELLY_RATE_BURST`: each thing's limit (a source waits, never refuses). */
  rateLimit: RateLimit;
  /** `TELLY_ACCEPT_PAST`, `TELLY_ACCEPT_FUTURE`, `TELLY_ACCEPT_MONTHS`: the record times accepted. */
  accept: AcceptPolicy;
}

/** True when the deployment has a Kafka: `telly up` then runs the bridge. */
export function kafkaConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.TELLY_KAFKA_BROKERS?.trim());
}

/** `host:port` seeds of `TELLY_KAFKA_BROKERS`; a `ConfigError` naming the bad one otherwise. */
export function parseBrokers(env: NodeJS.ProcessEnv): string[] {
  const name = 'TELLY_KAFKA_BROKERS';
  const brokers = (env[name] ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) throw new ConfigError(name, 'must list at least one broker as host:port');
  for (const broker of brokers) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(broker);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) {
      throw new ConfigError(name, `${JSON.stringify(broker)} is not host:port`);
    }
  }
  return brokers;
}

/** Reads the connection settings; shared by the bridge and by whoever else talks to that Kafka. */
export function parseKafkaConnection(env: NodeJS.ProcessEnv): KafkaConnection {
  const tlsFlag = env.TELLY_KAFKA_TLS;
  if (tlsFlag !== undefined && tlsFlag !== '' && tlsFlag !== 'true' && tlsFlag !== 'false') {
    throw new ConfigError('TELLY_KAFKA_TLS', `must be true or false, got ${tlsFlag}`);
  }
  const caFile = env.TELLY_KAFKA_TLS_CA || undefined;
  const tls = caFile ? { caFile } : tlsFlag === 'true' ? {} : undefined;
  const mechanism = env.TELLY_KAFKA_SASL_MECHANISM
    ? envEnum(env, 'TELLY_KAFKA_SASL_MECHANISM', SASL_MECHANISMS, 'plain')
    : undefined;
  let sasl: KafkaConnection['sasl'];
  if (mechanism) {
    const username = env.TELLY_KAFKA_SASL_USERNAME ?? '';
    const password = env.TELLY_KAFKA_SASL_PASSWORD ?? '';
    if (!username) throw new ConfigError('TELLY_KAFKA_SASL_USERNAME', `is needed with SASL ${mechanism}`);
    if (!password) throw new ConfigError('TELLY_KAFKA_SASL_PASSWORD', `is needed with SASL ${mechanism}`);
    sasl = { mechanism, username, password };
  } else if (env.TELLY_KAFKA_SASL_USERNAME || env.TELLY_KAFKA_SASL_PASSWORD) {
    throw new ConfigError(
      'TELLY_KAFKA_SASL_MECHANISM',
      'must name the mechanism (plain, scram-sha-256, scram-sha-512)',
    );
  }
  return { brokers: parseBrokers(env), clientId: env.TELLY_KAFKA_CLIENT_ID || DEFAULT_CLIENT_ID, tls, sasl };
}

/** Reads the Kafka bridge's settings from the environment once, failing fast on a bad value. */
export function parseKafkaConfig(env: NodeJS.ProcessEnv): KafkaBridgeConfig {
  const rejectionsTopic = env.TELLY_KAFKA_REJECTIONS_TOPIC || DEFAULT_REJECTIONS_TOPIC;
  if (!new RegExp(KAFKA_TOPIC_PATTERN).test(rejectionsTopic)) {
    throw new ConfigError(
      'TELLY_KAFKA_REJECTIONS_TOPIC',
      `${JSON.stringify(rejectionsTopic)} is not a Kafka topic name`,
    );
  }
  return {
    kafka: parseKafkaConnection(env),
    rejectionsTopic,
    rateLimit: parseRateLimit(env),
    accept: parseAcceptPolicy(env),
  };
}
