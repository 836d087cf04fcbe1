import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { cacheDir, findSystemBinary, MissingBinaryError } from './binaries.ts';
import { ManagedProcess } from './managed-process.ts';

/** The Kafka version `deploy/scripts/kafka.sh` caches (its pom's `kafka.version`). */
export const KAFKA_VERSION = '4.1.1';
/** A KRaft broker formats and starts in a few seconds; a cold JVM on a busy machine takes longer. */
export const KAFKA_START_TIMEOUT_MS = 60_000;

export interface KafkaBrokerOptions {
  /**
   * Keep the log here (and across {@link KafkaBroker.stop} / {@link KafkaBroker.start}); the
   * directory is formatted once. @default a fresh temporary directory, removed on stop
   */
  dataDir?: string;
  /** The client listener's port. @default a free one */
  port?: number;
  /** Partitions of a topic created on first use. @default 1 */
  partitions?: number;
  /** The JVM's heap. @default 512 */
  heapMb?: number;
  /** Where the jars are. @default {@link findKafkaLib} */
  lib?: string;
}

/**
 * The directory of the broker's jars: `TELLY_KAFKA_LIB`, else the one `deploy/scripts/kafka.sh`
 * cached (`npm run setup` in test mode runs it).
 */
export function findKafkaLib(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.TELLY_KAFKA_LIB, join(cacheDir(env), `kafka-${KAFKA_VERSION}`, 'lib')];
  for (const dir of candidates) {
    if (dir && existsSync(dir) && readdirSync(dir).some((f) => /^kafka_2\.13-4\..*\.jar$/.test(f)))
      return dir;
  }
  throw new MissingBinaryError(
    `the Kafka ${KAFKA_VERSION} broker's jars are not in ${candidates.filter(Boolean).join(' or ')}: run \`bash deploy/scripts/kafka.sh\` (setup.sh test does)`,
  );
}

/** True once something accepts TCP connections on `port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A real single-node Apache Kafka (KRaft: broker and controller in one JVM) on 127.0.0.1, run
 * from the Maven Central jars: formatted once, started on free ports, stoppable and restartable
 * on the same ports and log (a broker outage in a test), killable.
 */
export class KafkaBroker {
  /** `127.0.0.1:<port>`: the bootstrap server clients (kafkajs, kcat) connect to. */
  readonly bootstrap: string;
  readonly port: number;
  readonly dataDir: string;
  readonly process: ManagedProcess;
  readonly #ownDir: boolean;
  readonly #ready: { started: boolean };

  private constructor(
    port: number,
    dataDir: string,
    ownDir: boolean,
    process: ManagedProcess,
    ready: { started: boolean },
  ) {
    this.port = port;
    this.bootstrap = `127.0.0.1:${port}`;
    this.dataDir = dataDir;
    this.#ownDir = ownDir;
    this.process = process;
    this.#ready = ready;
  }

  /** Formats (when new) and starts a broker; resolves once it serves clients. */
  static async start(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
    const java = findSystemBinary('java', 'default-jre-headless');
    const lib = options.lib ?? findKafkaLib();
    const ownDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'telly-kafka-')));
    const port = options.port ?? (await getPort({ host: '127.0.0.1' }));
    const controllerPort = await getPort({ host: '127.0.0.1', exclude: [port] });
    const logDir = join(dataDir, 'log');
    const config = join(dataDir, 'server.properties');
    const log4j = join(dataDir, 'log4j2.properties');
    await mkdir(logDir, { recursive: true });
    await writeFile(
      config,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        `log.dirs=${logDir}`,
        `num.partitions=${options.partitions ?? 1}`,
        // one node: every internal topic has one replica, and few partitions start fast
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'transaction.state.log.num.partitions=1',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'auto.create.topics.enable=true',
        '',
      ].join('\n'),
    );
    await writeFile(
      log4j,
      [
        'appender.out.type=Console',
        'appender.out.name=out',
        'appender.out.layout.type=PatternLayout',
        'appender.out.layout.pattern=[%d] %p %m (%c)%n',
        'rootLogger.level=WARN',
        'rootLogger.appenderRef.out.ref=out',
        // its one INFO line, "Kafka Server started", is what start() waits for
        'logger.server.name=kafka.server.KafkaRaftServer',
        'logger.server.level=INFO',
        '',
      ].join('\n'),
    );
    const jvm = [
      `-Xmx${options.heapMb ?? 512}m`,
      '-Xss1m',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4j}`,
      '-cp',
      `${lib}/*`,
    ];
    if (!existsSync(join(logDir, 'meta.properties'))) {
      // the cluster id is 16 random bytes in base64url, as `kafka-storage random-uuid` prints
      const clusterId = randomBytes(16).toString('base64url');
      const format = new ManagedProcess({
        name: 'kafka-storage format',
        command: java,
        args: [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config],
      });
      format.start();
      await format.exited();
      if (!existsSync(join(logDir, 'meta.properties'))) {
        if (ownDir) await rm(dataDir, { recursive: true, force: true });
        throw new Error(`formatting the Kafka log failed:\n${format.logTail}`);
      }
    }
    const ready = { started: false };
    const process = new ManagedProcess({
      name: 'kafka',
      command: java,
      args: [...jvm, 'kafka.Kafka', config],
      onLine: (line) => {
        if (line.includes('Kafka Server started')) ready.started = true;
      },
    });
    const broker = new KafkaBroker(port, dataDir, ownDir, process, ready);
    try {
      await broker.start();
    } catch (err) {
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
    return broker;
  }

  get running(): boolean {
    return this.#ready.started && this.process.running;
  }

  /** Starts the broker again (after {@link stop} or {@link kill}) on the same ports and log. */
  async start(): Promise<void> {
    if (this.process.running) return;
    this.#ready.started = false;
    await this.process.launch(async () => this.#ready.started && (await listening(this.port)), {
      timeoutMs: KAFKA_START_TIMEOUT_MS,
      intervalMs: 100,
    });
  }

  /** Shuts the broker down cleanly, keeping its log: {@link start} brings it back. */
  async pause(): Promise<void> {
    await this.process.stop(30_000);
  }

  /** SIGKILLs the broker (a crash); {@link start} brings it back. */
  async kill(): Promise<void> {
    await this.process.kill('SIGKILL');
  }

  /** Stops the broker and removes its log unless it was given a `dataDir`. */
  async stop(): Promise<void> {
    await this.process.stop(30_000);
    if (this.#ownDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
