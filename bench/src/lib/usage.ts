// What repeated runs of one side of a scenario cost, summarized the same way everywhere:
// latency medians, the server's CPU and memory, the load generator's CPU.
import type { LatencySummary } from './histogram.ts';
import type { TreeUsage } from './process-tree.ts';
import { median } from './stats.ts';

export interface RunUsage {
  cpu: TreeUsage;
  generatorCpuPercent: number;
}

export function usageSummary<R extends RunUsage>(list: readonly R[], latencyOf: (run: R) => LatencySummary) {
  return {
    latencyMs: {
      p50: median(list.map((r) => latencyOf(r).p50)),
      p99: median(list.map((r) => latencyOf(r).p99)),
      max: Math.max(...list.map((r) => latencyOf(r).max)),
    },
    serverCpuPercent: median(list.map((r) => r.cpu.cpuPercent)),
    serverCpuPercentBy: list.at(-1)?.cpu.cpuPercentBy,
    serverRssMbPeak: Math.max(...list.map((r) => r.cpu.rssMbPeak)),
    generatorCpuPercent: median(list.map((r) => r.generatorCpuPercent)),
  };
}
