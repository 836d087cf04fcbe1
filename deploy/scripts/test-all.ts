// `npm test`: lint, typecheck and test every package through turbo (cached), then print one
// pass/fail summary for the whole repository, read from each package's TAP results.
import { spawnSync } from 'node:child_process';
import { glob, readFile } from 'node:fs/promises';

const args = process.argv.slice(2);
const turbo = spawnSync(
  'npx',
  [
    'turbo',
    'run',
    'lint',
    'typecheck',
    'test',
    '--concurrency=2',
    '--continue',
    '--output-logs=new-only',
    ...args,
  ],
  { stdio: 'inherit' },
);

/** Each failed test of a TAP report: its name (indented by depth), where it is and its error. */
function failuresOf(tap: string): string[] {
  const lines = tap.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const failed = line.match(/^( *)not ok \d+ - (.*)$/);
    if (!failed) return;
    const depth = failed[1]!.length / 4;
    const details: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() === '...') break;
      const field = next.match(/^\s*(location|error): (.*)$/);
      if (field) details.push(`${field[1]}: ${field[2]!.slice(0, 300)}`);
    }
    const pad = '  '.repeat(depth);
    out.push(`${pad}${failed[2]}${details.map((d) => `\n${pad}  ${d}`).join('')}`);
  });
  return out;
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedPackages: string[] = [];
// the failed tests by name, printed last so that a log's tail says what failed
const failedTests: string[] = [];
for await (const file of glob(
  '{schemas,harness,api,web,firmware,deploy,bench,processors/*,bridges/*}/.test-results/summary.tap',
)) {
  const tap = await readFile(file, 'utf8');
  const count = (key: string) => Number(tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  totals.passed += count('pass');
  totals.failed += count('fail') + count('cancelled');
  totals.skipped += count('skipped') + count('todo');
  if (count('fail') + count('cancelled') > 0) {
    const pkg = file.split('/.test-results')[0]!;
    failedPackages.push(pkg);
    failedTests.push(...failuresOf(tap).map((f) => `${pkg}: ${f}`));
  }
}
if (failedTests.length > 0) console.log(`failed tests:\n${failedTests.join('\n')}`);
if (failedPackages.length > 0) console.log(`failing packages: ${failedPackages.join(', ')}`);
if (turbo.status !== 0 && totals.failed === 0) {
  // lint or typecheck failed, or a package's runner crashed before reporting
  console.log('turbo reported a failing task (lint, typecheck or a test runner): see above');
  totals.failed += 1;
}
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(turbo.status === 0 && totals.failed === 0 ? 0 : 1);
