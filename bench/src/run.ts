// Runs scenarios one after the other; a scenario that fails is reported as failed and the
// next one still runs (Ctrl-C ends the whole run after the current scenario cleaned up).
import os from 'node:os';
import { fsyncRate } from './machine.ts';
import { summarizeProfiles } from './profile.ts';
import type { Scenario, ScenarioContext, ScenarioReport } from './types.ts';

export interface RunOptions extends Omit<ScenarioContext, 'profileDir' | 'log'> {
  log(scenario: string, message: string): void;
  /** When set, each scenario's Telly processes are profiled into `<profileRoot>/<scenario>`. */
  profileRoot: string | undefined;
}

export async function runScenarios(
  scenarios: readonly Scenario[],
  options: RunOptions,
): Promise<ScenarioReport[]> {
  const reports: ScenarioReport[] = [];
  for (const scenario of scenarios) {
    if (options.signal.aborted) break;
    const log = (message: string) => options.log(scenario.name, message);
    const profileDir = options.profileRoot ? `${options.profileRoot}/${scenario.name}` : undefined;
    const started = performance.now();
    const base = {
      name: scenario.name,
      title: scenario.title,
      target: scenario.target,
      reference: scenario.reference,
    };
    const load = () =>
      os
        .loadavg()
        .slice(0, 2)
        .map((l) => Math.round(l * 100) / 100);
    const machine = { fsyncPerSecondBefore: fsyncRate(500), loadBefore: load() };
    try {
      const result = await scenario.run({ ...options, log, profileDir });
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      reports.push({ ...base, status: 'ok', seconds, result, disk: { ...machine, loadAfter: load() } });
      log(`done in ${seconds} s: ${result.verdict}${result.met ? '' : ' (target not met)'}`);
    } catch (err) {
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const error = options.signal.aborted ? 'interrupted' : err instanceof Error ? err.message : String(err);
      reports.push({ ...base, status: 'failed', seconds, error, disk: { ...machine, loadAfter: load() } });
      log(`failed after ${seconds} s: ${error}`);
      if (!options.signal.aborted && err instanceof Error && err.stack) log(err.stack);
    }
    if (profileDir) {
      const report = reports.at(-1)!;
      report.profile = await summarizeProfiles(profileDir).catch((err: unknown) => {
        log(`could not summarize profiles: ${String(err)}`);
        return undefined;
      });
    }
  }
  return reports;
}
