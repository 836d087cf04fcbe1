import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { findSystemBinary } from './binaries.ts';
import { ManagedProcess } from './managed-process.ts';
import { httpOk } from './wait.ts';

export interface VictoriaMetricsOptions {
  /**
   * Keep one sample per series and millisecond (`-dedup.minScrapeInterval=1ms`), as InfluxDB
   * keeps one point per series and timestamp: a point written twice (a redelivered or replayed
   * entry) is then one sample, not two. @default true
   */
  deduplicate?: boolean;
}

/**
 * VictoriaMetrics single-node: accepts InfluxDB's `/api/v2/write` line protocol exactly as
 * InfluxDB does, so the Influx sink is tested against a real server.
 */
export class VictoriaMetrics {
  readonly url: string;
  readonly process: ManagedProcess;
  readonly #dataDir: string;

  private constructor(url: string, dataDir: string, process: ManagedProcess) {
    this.url = url;
    this.#dataDir = dataDir;
    this.process = process;
  }

  static async start(options: VictoriaMetricsOptions = {}): Promise<VictoriaMetrics> {
    const bin = findSystemBinary('victoria-metrics', 'victoria-metrics');
    const port = await getPort({ host: '127.0.0.1' });
    const dataDir = await mkdtemp(join(tmpdir(), 'telly-vm-'));
    const process = new ManagedProcess({
      name: 'victoria-metrics',
      command: bin,
      args: [
        `-storageDataPath=${dataDir}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-retentionPeriod=100y',
        '-search.disableCache',
        '-loggerLevel=WARN',
        ...(options.deduplicate === false ? [] : ['-dedup.minScrapeInterval=1ms']),
      ],
    });
    const vm = new VictoriaMetrics(`http://127.0.0.1:${port}`, dataDir, process);
    try {
      await process.launch(() => httpOk(`${vm.url}/health`), { timeoutMs: 30_000 });
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
    return vm;
  }

  /** Makes recently written samples visible to queries (they are buffered for ~1 s otherwise). */
  async flush(): Promise<void> {
    await fetch(`${this.url}/internal/force_flush`).then((res) => res.body?.cancel());
  }

  async stop(): Promise<void> {
    await this.process.stop();
    await rm(this.#dataDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
