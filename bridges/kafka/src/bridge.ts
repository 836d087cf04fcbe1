import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  Backoff,
  type CheckResult,
  type HealthCheck,
  HealthChecks,
  isConsumerNotFound,
  type RunningProcessor,
  runProcessor,
  sleep,
  worstStatus,
} from '@telly/runtime';
import type { Registry } from 'prom-client';
import type { CatalogListener, KafkaSink, KafkaSource } from './catalog.ts';
import { sinkProcessors } from './sink.ts';
import { type RunningSource, runSource, type SourceDeps, sourceGroupId } from './source.ts';

const LAG_REFRESH_MS = 5_000;

/** What the sources need, and what the sinks' processors run on. */
export interface KafkaBridgeOptions extends SourceDeps {
  nc: NatsConnection;
  /** The component's registry: the sinks' processor metrics go there. */
  registry: Registry;
}

interface SinkRun {
  sink: KafkaSink;
  health: HealthChecks;
  processors: Promise<RunningProcessor[]>;
}

/**
 * Runs every tenant's sources and sinks as the catalog says: a source is started when created
 * (or found at start) and stopped when deleted; a sink's processors likewise. Changes are applied
 * one at a time, in catalog order.
 */
export class KafkaBridge implements CatalogListener {
  readonly #o: KafkaBridgeOptions;
  readonly #sources = new Map<
    string,
    { abort: AbortController; running: Promise<RunningSource | undefined> }
  >();
  readonly #sinks = new Map<string, SinkRun>();
  readonly #failures = new Map<string, string>();
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #lagTimer: NodeJS.Timeout;

  constructor(options: KafkaBridgeOptions) {
    this.#o = options;
    this.#lagTimer = setInterval(() => {
      this.#refreshLag().catch((err: unknown) => options.logger.debug({ err }, 'source lag refresh failed'));
    }, LAG_REFRESH_MS);
    this.#lagTimer.unref();
  }

  get sources(): number {
    return this.#sources.size;
  }

  get sinks(): number {
    return this.#sinks.size;
  }

  sourceCreated(source: KafkaSource): void {
    this.#serial(async () => {
      if (this.#stopped || this.#sources.has(source.sourceId)) return;
      const abort = new AbortController();
      this.#sources.set(source.sourceId, { abort, running: this.#start(source, abort.signal) });
    });
  }

  /**
   * Starts a source, again and again while it fails (its topic does not exist yet, Kafka is
   * down): `kafka-sources` is down meanwhile, naming why.
   */
  async #start(source: KafkaSource, signal: AbortSignal): Promise<RunningSource | undefined> {
    const backoff = new Backoff({ minMs: 500, maxMs: 10_000 });
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const running = await runSource(source, { ...this.#o });
        this.#failures.delete(source.sourceId);
        if (!signal.aborted) return running;
        await running.stop();
        return undefined;
      } catch (err) {
        this.#failures.set(source.sourceId, err instanceof Error ? err.message : String(err));
        this.#o.logger.warn(
          { err, source: source.sourceId, attempt },
          'a Kafka source could not start; retrying',
        );
        await sleep(backoff.delay(attempt), signal);
      }
    }
    return undefined;
  }

  sourceDeleted(sourceId: string): void {
    this.#serial(async () => {
      const entry = this.#sources.get(sourceId);
      this.#sources.delete(sourceId);
      this.#failures.delete(sourceId);
      entry?.abort.abort();
      await (await entry?.running)?.stop();
    });
  }

  sinkCreated(sink: KafkaSink): void {
    this.#serial(async () => {
      if (this.#stopped || this.#sinks.has(sink.sinkId)) return;
      const health = new HealthChecks();
      const processors = Promise.all(
        sinkProcessors(sink, this.#o.client, this.#o.metrics).map((definition) =>
          runProcessor(definition, {
            nc: this.#o.nc,
            logger: this.#o.logger,
            metrics: this.#o.registry,
            health,
          }),
        ),
      );
      this.#sinks.set(sink.sinkId, { sink, health, processors });
      await processors.catch((err: unknown) => {
        this.#failures.set(sink.sinkId, err instanceof Error ? err.message : String(err));
        this.#o.logger.error({ err, sink: sink.sinkId }, 'a Kafka sink could not start');
      });
    });
  }

  sinkDeleted(sinkId: string): void {
    this.#serial(async () => {
      const run = this.#sinks.get(sinkId);
      this.#sinks.delete(sinkId);
      this.#failures.delete(sinkId);
      if (!run) return;
      const processors = await run.processors.catch(() => []);
      await Promise.all(processors.map((p) => p.stop()));
      // a deleted sink's consumers go too: nothing holds their place in the log any more
      const jsm = await jetstreamManager(this.#o.nc);
      for (const definition of sinkProcessors(run.sink, this.#o.client, this.#o.metrics)) {
        await jsm.consumers.delete(definition.stream, definition.name).catch((err: unknown) => {
          if (!isConsumerNotFound(err)) throw err;
        });
      }
    });
  }

  /** Resolves once every change received so far is applied. */
  settled(): Promise<void> {
    return this.#queue;
  }

  /** `kafka-sources` and `kafka-sinks`: down while one failed to start, else the sinks' processors' worst. */
  healthChecks(): Record<string, HealthCheck> {
    return {
      'kafka-sources': (): CheckResult => {
        const failed = [...this.#sources.keys()].filter((id) => this.#failures.has(id));
        return failed.length > 0
          ? { status: 'down', detail: Object.fromEntries(failed.map((id) => [id, this.#failures.get(id)])) }
          : { status: 'up', detail: { sources: this.#sources.size } };
      },
      'kafka-sinks': async (): Promise<CheckResult> => {
        const reports = await Promise.all(
          [...this.#sinks].map(async ([id, run]) => [id, await run.health.report()] as const),
        );
        const failed = [...this.#sinks.keys()].filter((id) => this.#failures.has(id));
        const status = failed.length > 0 ? 'down' : worstStatus(reports.map(([, r]) => r.status));
        return {
          status,
          detail: {
            sinks: this.#sinks.size,
            ...Object.fromEntries(
              reports.filter(([, r]) => r.status !== 'up').map(([id, r]) => [id, r.checks]),
            ),
            ...Object.fromEntries(failed.map((id) => [id, this.#failures.get(id)])),
          },
        };
      },
    };
  }

  /** Stops every source (their batches finish first), then every sink's processors. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#lagTimer);
    await this.#queue;
    const sources = [...this.#sources.values()];
    this.#sources.clear();
    for (const s of sources) s.abort.abort();
    await Promise.all(sources.map(async (s) => (await s.running)?.stop()));
    const sinks = [...this.#sinks.values()];
    this.#sinks.clear();
    await Promise.all(
      sinks.map(async (run) => {
        const processors = await run.processors.catch(() => []);
        await Promise.all(processors.map((p) => p.stop()));
      }),
    );
  }

  #serial(fn: () => Promise<void>): void {
    this.#queue = this.#queue.then(fn).catch((err: unknown) => {
      this.#o.logger.error({ err }, 'applying a Kafka source or sink change failed');
    });
  }

  async #refreshLag(): Promise<void> {
    for (const { running } of [...this.#sources.values()]) {
      const source = (await running)?.source;
      if (!source) continue;
      const lag = await this.#o.client.lag(sourceGroupId(source.sourceId), source.topic);
      this.#o.metrics.sourceLag.set({ source: source.sourceId }, lag);
    }
  }
}
