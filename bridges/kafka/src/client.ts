import { readFile } from 'node:fs/promises';
import type { Logger } from '@telly/runtime';
import { ConfigError } from '@telly/runtime';
import {
  type Admin,
  type Consumer,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { KafkaConnection } from './config.ts';

/** One record read from a topic partition. */
export interface InRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as the decimal string Kafka gives. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values as UTF-8 (the first, when a header repeats). */
  headers: Record<string, string>;
}

/** One record to write. */
export interface OutRecord {
  key: string;
  value: Uint8Array | string;
  headers: Record<string, string>;
}

/** What a consumer hands its handler: one partition's records, in offset order. */
export interface InBatch {
  topic: string;
  partition: number;
  records: InRecord[];
  /** False once the consumer is stopping or lost the partition: finish quickly, commit nothing more. */
  active(): boolean;
  /** Tells the group this member is alive during a long batch. */
  heartbeat(): Promise<void>;
  /** Commits `offset` (the next one to read) for this partition of the group. */
  commit(offset: string): Promise<void>;
}

export interface InConsumer {
  stop(): Promise<void>;
}

/**
 * The small client interface the bridge uses, whatever library speaks Kafka underneath
 * (kafkajs today: {@link kafkaClient}).
 */
export interface KafkaClient {
  /** Writes records to a topic; resolves once every one is acknowledged by all in-sync replicas. */
  send(topic: string, records: OutRecord[]): Promise<void>;
  /**
   * Reads `topic` as a member of `groupId`, from its committed offsets (the earliest one for a new
   * group); nothing is committed but what the handler commits.
   */
  consume(groupId: string, topic: string, handle: (batch: InBatch) => Promise<void>): Promise<InConsumer>;
  /** Records behind the group's committed offsets, summed over the topic's partitions. */
  lag(groupId: string, topic: string): Promise<number>;
  /** Resolves while a broker answers (the `kafka` health check). */
  ping(): Promise<{ brokers: number }>;
  close(): Promise<void>;
}

/** kafkajs's log lines, into the component's logger (its info lines are debug here). */
function logCreator(logger: Logger) {
  return () =>
    ({ level, log }: { level: number; log: { message: string; [k: string]: unknown } }) => {
      const { message, timestamp: _t, logger: _l, ...extra } = log;
      // kafkajs logs what it retries (a broker away, a coordinator loading) as errors
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(extra, `kafka: ${message}`);
      else logger.debug(extra, `kafka: ${message}`);
    };
}

/** The kafkajs settings of a connection: TLS (with a CA bundle), SASL, retries. */
export async function kafkajsConfig(connection: KafkaConnection, logger: Logger): Promise<KafkaConfig> {
  let ssl: KafkaConfig['ssl'];
  if (connection.tls?.caFile) {
    const file = connection.tls.caFile;
    const ca = await readFile(file).catch((err: unknown) => {
      throw new ConfigError(
        'TELLY_KAFKA_TLS_CA',
        `cannot read ${file}: ${err instanceof Error ? err.message : err}`,
      );
    });
    ssl = { ca: [ca] };
  } else if (connection.tls) {
    ssl = true;
  }
  return {
    clientId: connection.clientId,
    brokers: connection.brokers,
    ...(ssl ? { ssl } : {}),
    ...(connection.sasl ? { sasl: connection.sasl as SASLOptions } : {}),
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    // a broker back after an outage is found within ~2 s, not kafkajs's 30 s
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger) as KafkaConfig['logCreator'],
  };
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/**
 * A {@link KafkaClient} on kafkajs 2.2. One idempotent producer (acks from all in-sync replicas,
 * one request in flight), one consumer per
 * group, one admin for lag and health.
 *
 * kafkajs is in maintenance mode. On Node 24 its request queue schedules a timer with a negative
 * delay (kafkajs issue #1751): Node prints a `TimeoutNegativeWarning` and uses 1 ms, which is
 * what kafkajs meant, so it is harmless; no workaround is applied.
 */
export async function kafkaClient(connection: KafkaConnection, logger: Logger): Promise<KafkaClient> {
  const kafka = new Kafka(await kafkajsConfig(connection, logger));
  let producer: Producer | undefined;
  let producing: Promise<Producer> | undefined;
  let admin: Promise<Admin> | undefined;
  const consumers = new Set<Consumer>();

  const producerOf = () => {
    producing ??= (async () => {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: true,
        // bounded (about 15 s), so that a sink's batch fails over to the runtime's hold-and-retry
        // and a stop during an outage is not stuck; a re-sent batch keeps its sequence numbers,
        // which the broker deduplicates (kafkajs warns once that this limits its EoS guarantee)
        retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 10 },
      });
      await p.connect();
      producer = p;
      return p;
    })().catch((err: unknown) => {
      producing = undefined;
      throw err;
    });
    return producing;
  };
  const adminOf = () => {
    admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })().catch((err: unknown) => {
      admin = undefined;
      throw err;
    });
    return admin;
  };

  return {
    async send(topic, records) {
      if (records.length === 0) return;
      const p = await producerOf();
      await p.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({
          key: r.key,
          value:
            typeof r.value === 'string'
              ? r.value
              : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          headers: r.headers,
        })),
      });
    },

    async consume(groupId, topic, handle) {
      const consumer = kafka.consumer({
        groupId,
        allowAutoTopicCreation: true,
        // a member that died (SIGKILL) holds its partitions this long before another takes them
        sessionTimeout: 10_000,
        rebalanceTimeout: 10_000,
        heartbeatInterval: 1_000,
        maxWaitTimeInMs: 500,
        retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
      });
      await consumer.connect();
      consumers.add(consumer);
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
      } catch (err) {
        consumers.delete(consumer);
        await consumer.disconnect().catch(() => {});
        throw err;
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 4,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          await handle({
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key,
              value: m.value,
              headers: headersOf(m.headers),
            })),
            active: () => isRunning() && !isStale(),
            heartbeat,
            commit: async (offset) => {
              // the records before `offset` are done: fetch after them, and keep that in the group
              resolveOffset((BigInt(offset) - 1n).toString());
              await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]);
            },
          });
        },
      });
      return {
        async stop() {
          consumers.delete(consumer);
          // waits for the batch in hand to finish
          await consumer.disconnect();
        },
      };
    },

    async lag(groupId, topic) {
      const a = await adminOf();
      const [ends, committed] = await Promise.all([
        a.fetchTopicOffsets(topic),
        a.fetchOffsets({ groupId, topics: [topic] }),
      ]);
      const done = new Map(
        (committed[0]?.partitions ?? []).map((p) => [
          p.partition,
          BigInt(p.offset === '-1' ? '0' : p.offset),
        ]),
      );
      let lag = 0n;
      for (const end of ends) {
        const high = BigInt(end.high);
        const low = BigInt(end.low);
        const at = done.get(end.partition) ?? low;
        lag += high > at ? high - (at > low ? at : low) : 0n;
      }
      return Number(lag);
    },

    async ping() {
      const a = await adminOf();
      const cluster = await a.describeCluster();
      return { brokers: cluster.brokers.length };
    },

    async close() {
      await Promise.allSettled([...consumers].map((c) => c.disconnect()));
      consumers.clear();
      await Promise.allSettled([producer?.disconnect(), admin?.then((a) => a.disconnect())]);
    },
  };
}
