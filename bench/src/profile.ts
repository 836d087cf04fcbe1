// Summarizes V8 CPU profiles (`node --cpu-prof`) of Telly's processes: per process, the
// functions with the most self time and the packages that time falls in. Used by the bench
// (`--profile`) and runnable on its own: node bench/src/profile.ts <dir with .cpuprofile files>
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface HotSpot {
  function: string;
  /** package or file:line */
  location: string;
  selfMs: number;
  /** Of the busy (non-idle) time. */
  selfPercent: number;
}

export interface ProcessProfile {
  process: string;
  pid: number;
  busyMs: number;
  idlePercent: number;
  top: HotSpot[];
  byPackage: { package: string; percent: number }[];
}

/** Where a script lives: an npm package, a workspace folder, or Node itself. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (modules) return modules[1]!;
  const workspace = /\/((?:processors|bridges)\/[^/]+|schemas|harness|api|deploy|bench)\/src\//.exec(url);
  return workspace ? workspace[1]! : url.replace(/^file:\/\//, '');
}

function summarize(profile: CpuProfile, process: string, pid: number, top: number): ProcessProfile {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const byFunction = new Map<string, { name: string; location: string; pkg: string; samples: number }>();
  let idle = 0;
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle++;
      continue;
    }
    const pkg = packageOf(frame.url, frame.functionName);
    const location = frame.url ? `${pkg} ${frame.url.split('/').at(-1)}:${frame.lineNumber + 1}` : pkg;
    const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}`;
    const entry = byFunction.get(key) ?? {
      name: frame.functionName || '(anonymous)',
      location,
      pkg,
      samples: 0,
    };
    entry.samples++;
    byFunction.set(key, entry);
  }
  const busy = profile.samples.length - idle;
  const percent = (samples: number) => Math.round((samples / Math.max(1, busy)) * 1000) / 10;
  const packages = new Map<string, number>();
  for (const f of byFunction.values()) packages.set(f.pkg, (packages.get(f.pkg) ?? 0) + f.samples);
  return {
    process,
    pid,
    busyMs: Math.round(busy * msPerSample),
    idlePercent: Math.round((idle / Math.max(1, profile.samples.length)) * 1000) / 10,
    top: [...byFunction.values()]
      .sort((a, b) => b.samples - a.samples)
      .slice(0, top)
      .map((f) => ({
        function: f.name,
        location: f.location,
        selfMs: Math.round(f.samples * msPerSample),
        selfPercent: percent(f.samples),
      })),
    byPackage: [...packages]
      .sort(([, a], [, b]) => b - a)
      .slice(0, top)
      .map(([pkg, samples]) => ({ package: pkg, percent: percent(samples) })),
  };
}

/** Every `.cpuprofile` in `dir`, named from `pids.json` (pid → process), busiest first. */
export async function summarizeProfiles(dir: string, top = 12): Promise<ProcessProfile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const names: Record<string, string> = JSON.parse(
    await readFile(join(dir, 'pids.json'), 'utf8').catch(() => '{}'),
  );
  const out: ProcessProfile[] = [];
  for (const file of files) {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
    const pid = Number(file.split('.')[3]);
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    out.push(summarize(profile, names[pid] ?? `pid ${pid}`, pid, top));
  }
  return out.sort((a, b) => b.busyMs - a.busyMs);
}

/** The summaries as Markdown: per process, its top functions and packages. */
export function profileMarkdown(profiles: readonly ProcessProfile[], processes = 4, functions = 8): string {
  return profiles
    .slice(0, processes)
    .map((p) =>
      [
        `**${p.process}** — ${(p.busyMs / 1000).toFixed(1)} s busy (${p.idlePercent}% idle); by package: ${p.byPackage
          .slice(0, 6)
          .map((b) => `${b.package} ${b.percent}%`)
          .join(', ')}`,
        '',
        '| self % | function | where |',
        '| ---: | --- | --- |',
        ...p.top.slice(0, functions).map((h) => `| ${h.selfPercent} | \`${h.function}\` | ${h.location} |`),
      ].join('\n'),
    )
    .join('\n\n');
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node bench/src/profile.ts <dir with .cpuprofile files>');
    process.exit(2);
  }
  console.log(profileMarkdown(await summarizeProfiles(dir), Number.POSITIVE_INFINITY, 15));
}
