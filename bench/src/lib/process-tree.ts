// CPU and memory of a process tree (a process and all its descendants), read from /proc: the
// CPU time between `start()` and `stop()` per process, and the tree's resident memory sampled
// every second. Linux only, like the benchmark machine.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const PAGE_BYTES = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
const SAMPLE_EVERY_MS = 1_000;

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** user + system CPU ticks so far. */
  ticks: number;
  rssBytes: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name is in parentheses and may itself contain spaces or parentheses
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    // fields[0] is field 3 (state) of proc(5)
    return {
      pid,
      comm: text.slice(open + 1, close),
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      rssBytes: Number(fields[21]) * PAGE_BYTES,
    };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Every live process under the roots, the roots included. */
export function processTree(roots: readonly number[]): ProcStat[] {
  const all: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.push(stat);
  }
  const children = new Map<number, ProcStat[]>();
  for (const stat of all) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const tree: ProcStat[] = [];
  const queue = all.filter((s) => roots.includes(s.pid));
  while (queue.length) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return tree;
}

export interface TreeUsage {
  seconds: number;
  /** Average CPU over the interval, 100 = one core busy. */
  cpuPercent: number;
  /** The same, per process group name (component names for known pids, else the command). */
  cpuPercentBy: Record<string, number>;
  rssMbAvg: number;
  rssMbPeak: number;
  processes: number;
}

/** Watches process trees between `start()` and `stop()`. */
export class TreeMonitor {
  readonly #roots: readonly number[];
  readonly #names: ReadonlyMap<number, string>;
  #first = new Map<number, ProcStat>();
  #startedAt = 0;
  #rss: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** `names` labels known pids (e.g. component processes); others go by their command name. */
  constructor(roots: readonly number[], names: ReadonlyMap<number, string> = new Map()) {
    this.#roots = roots;
    this.#names = names;
  }

  start(): void {
    this.#first = new Map(processTree(this.#roots).map((s) => [s.pid, s]));
    this.#startedAt = performance.now();
    this.#rss = [];
    this.#timer = setInterval(() => this.#sampleRss(), SAMPLE_EVERY_MS);
    this.#timer.unref();
  }

  stop(): TreeUsage {
    clearInterval(this.#timer);
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const last = processTree(this.#roots);
    this.#rss.push(last.reduce((sum, s) => sum + s.rssBytes, 0));
    const by: Record<string, number> = {};
    let ticks = 0;
    for (const stat of last) {
      const delta = stat.ticks - (this.#first.get(stat.pid)?.ticks ?? 0);
      ticks += delta;
      const name = this.#names.get(stat.pid) ?? stat.comm;
      by[name] = (by[name] ?? 0) + delta;
    }
    const percent = (t: number) => Math.round((t / TICKS_PER_SECOND / seconds) * 1000) / 10;
    const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
    return {
      seconds,
      cpuPercent: percent(ticks),
      cpuPercentBy: Object.fromEntries(
        Object.entries(by)
          .sort(([, a], [, b]) => b - a)
          .map(([name, t]) => [name, percent(t)]),
      ),
      rssMbAvg: mb(this.#rss.reduce((a, b) => a + b, 0) / this.#rss.length),
      rssMbPeak: mb(Math.max(...this.#rss)),
      processes: last.length,
    };
  }

  #sampleRss(): void {
    this.#rss.push(processTree(this.#roots).reduce((sum, s) => sum + s.rssBytes, 0));
  }
}

/** CPU of this process (the load generator) between two calls, 100 = one core. */
export function selfCpu(): () => number {
  const before = process.cpuUsage();
  const started = performance.now();
  return () => {
    const used = process.cpuUsage(before);
    return Math.round(((used.user + used.system) / 1000 / (performance.now() - started)) * 1000) / 10;
  };
}
