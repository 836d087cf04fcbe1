// Test support: a real Kafka broker beside the bridge test stack (NATS, Postgres, registry), kcat
// as the third-party peer, and helpers that read what the log holds.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type BridgeTestStack, startBridgeTestStack } from '@telly/bridge-core/testing';
import { KafkaBroker } from '@telly/harness';
import { createMetricsRegistry, HealthChecks, Publisher, type RunningComponent } from '@telly/runtime';
import { createEvent, type EventData, messageFilters, STREAMS } from '@telly/schemas';
import { v7 } from 'uuid';
import { component } from '../component.ts';

const run = promisify(execFile);

export interface KafkaTestStack {
  stack: BridgeTestStack;
  broker: KafkaBroker;
  /** Environment of a bridge on this stack. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Starts the bridge component in this process. */
  bridge(extra?: NodeJS.ProcessEnv): Promise<{
    running: RunningComponent;
    health: HealthChecks;
    metrics: ReturnType<typeof createMetricsRegistry>;
  }>;
  /** Appends `kafka.source.created` as the API does; the source's id. */
  createSource(tenantId: string, data: Omit<EventData<'kafka.source.created'>, 'sourceId'>): Promise<string>;
  createSink(tenantId: string, data: Omit<EventData<'kafka.sink.created'>, 'sinkId'>): Promise<string>;
  /** Appends `kafka.source.deleted` / `kafka.sink.deleted`. */
  deleteSource(tenantId: string, sourceId: string): Promise<void>;
  /** `kcat -P`: one record per line, `key<TAB>value` (`-K\t`), with headers. */
  produce(topic: string, lines: string[], headers?: string[]): Promise<void>;
  /** `kcat -C -e`: every record of the topic, with key, headers, partition and offset. */
  consume(topic: string): Promise<ConsumedRecord[]>;
  /** Every MESSAGES entry of a thing (subject filter), in log order. */
  messages(
    tenantId: string,
    thingId: string,
  ): Promise<Array<{ seq: number; id: string; protocol: string; body: string }>>;
  /** How many MESSAGES entries a tenant (or its channel) has (cheap: the stream's subject counts). */
  count(tenantId: string, channelId?: string): Promise<number>;
  stop(): Promise<void>;
}

export interface ConsumedRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: number;
}

const SEP = '\u001f';

export async function startKafkaTestStack(options: { partitions?: number } = {}): Promise<KafkaTestStack> {
  const [stack, broker] = await Promise.all([
    startBridgeTestStack(),
    KafkaBroker.start(options.partitions ? { partitions: options.partitions } : {}),
  ]);
  const js = jetstream(stack.nc);
  const publisher = new Publisher(js);
  const running: RunningComponent[] = [];
  const stamp = () => ({ id: v7(), now: Date.now() });
  const env = (extra: NodeJS.ProcessEnv = {}) => ({
    NATS_URL: stack.natsUrl,
    TELLY_KAFKA_BROKERS: broker.bootstrap,
    TELLY_RATE_PER_SECOND: '100000',
    TELLY_RATE_BURST: '100000',
    ...extra,
  });
  const self: KafkaTestStack = {
    stack,
    broker,
    env,
    async bridge(extra) {
      const health = new HealthChecks();
      const metrics = createMetricsRegistry(component.name);
      const r = await component.start({
        name: component.name,
        env: env(extra),
        logger: stack.logger,
        metrics,
        health,
      });
      running.push(r);
      return { running: r, health, metrics };
    },
    async createSource(tenantId, data) {
      const sourceId = v7();
      await publisher.publishEvent(
        createEvent('kafka.source.created', { tenantId, data: { sourceId, ...data } }, stamp()),
      );
      return sourceId;
    },
    async createSink(tenantId, data) {
      const sinkId = v7();
      await publisher.publishEvent(
        createEvent('kafka.sink.created', { tenantId, data: { sinkId, ...data } }, stamp()),
      );
      return sinkId;
    },
    async deleteSource(tenantId, sourceId) {
      await publisher.publishEvent(
        createEvent('kafka.source.deleted', { tenantId, data: { sourceId } }, stamp()),
      );
    },
    async produce(topic, lines, headers = []) {
      const child = execFile('kcat', [
        '-P',
        '-b',
        broker.bootstrap,
        '-t',
        topic,
        '-K',
        '\t',
        ...headers.flatMap((h) => ['-H', h]),
      ]);
      const done = new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited ${code}`))));
        child.once('error', reject);
      });
      child.stdin?.end(`${lines.join('\n')}\n`);
      await done;
    },
    async consume(topic) {
      const { stdout } = await run(
        'kcat',
        [
          '-C',
          '-b',
          broker.bootstrap,
          '-t',
          topic,
          '-e',
          '-q',
          '-f',
          `%k${SEP}%s${SEP}%h${SEP}%p${SEP}%o\\n`,
        ],
        { maxBuffer: 256 * 1024 * 1024, timeout: 20_000 },
      );
      return stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [key = '', value = '', headers = '', partition = '0', offset = '0'] = line.split(SEP);
          return {
            key,
            value,
            headers: Object.fromEntries(
              headers
                .split(',')
                .filter((h) => h.includes('='))
                .map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)]),
            ),
            partition: Number(partition),
            offset: Number(offset),
          };
        });
    },
    async messages(tenantId, thingId) {
      const consumer = await js.consumers.get(STREAMS.MESSAGES.name, {
        filter_subjects: [...messageFilters({ tenant: tenantId, thing: thingId })],
        deliver_policy: DeliverPolicy.All,
      });
      const { num_pending: pending } = await consumer.info();
      const out: Array<{ seq: number; id: string; protocol: string; body: string }> = [];
      if (pending === 0) return out;
      for await (const m of await consumer.fetch({ max_messages: pending, expires: 5_000 })) {
        out.push({
          seq: m.seq,
          id: m.headers?.get('Telly-Message-Id') ?? '',
          protocol: m.headers?.get('Telly-Protocol') ?? '',
          body: m.string(),
        });
        if (m.info.pending === 0) break;
      }
      return out;
    },
    async count(tenantId, channelId) {
      const filter = messageFilters({ tenant: tenantId, ...(channelId ? { channel: channelId } : {}) })[0]!;
      const info = await (await jetstreamManager(stack.nc)).streams.info(STREAMS.MESSAGES.name, {
        subjects_filter: filter,
      });
      return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    },
    async stop() {
      for (const r of running.splice(0).reverse()) await r.stop().catch(() => {});
      await Promise.allSettled([broker.stop(), stack.stop()]);
    },
  };
  return self;
}
