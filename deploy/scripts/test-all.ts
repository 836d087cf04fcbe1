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

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedPackages: string[] = [];
for await (const file of glob(
  '{schemas,harness,api,web,firmware,deploy,bench,processors/*,bridges/*}/.test-results/summary.tap',
)) {
  const tap = await readFile(file, 'utf8');
  const count = (key: string) => Number(tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  totals.passed += count('pass');
  totals.failed += count('fail') + count('cancelled');
  totals.skipped += count('skipped') + count('todo');
  if (count('fail') + count('cancelled') > 0) failedPackages.push(file.split('/.test-results')[0]!);
}
if (failedPackages.length > 0) console.log(`failing packages: ${failedPackages.join(', ')}`);
if (turbo.status !== 0 && totals.failed === 0) {
  // lint or typecheck failed, or a package's runner crashed before reporting
  console.log('turbo reported a failing task (lint, typecheck or a test runner): see above');
  totals.failed += 1;
}
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(turbo.status === 0 && totals.failed === 0 ? 0 : 1);
