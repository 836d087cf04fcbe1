// Runs one package's tests with node's test runner: `npm test` inside a package, or via turbo.
// TELLY_TEST_TIER=unit runs *.test.ts without *.int.test.ts; =int only the integration tier.
import { spawnSync } from 'node:child_process';
import { glob, mkdir, rm, writeFile } from 'node:fs/promises';

const RESULTS_DIR = '.test-results';
const DEFAULT_TIMEOUT_MS = 180_000;

const tier = process.env.TELLY_TEST_TIER ?? 'all';
if (!['all', 'unit', 'int'].includes(tier)) {
  console.error(`TELLY_TEST_TIER must be all, unit or int (got ${tier})`);
  process.exit(2);
}
const files: string[] = [];
for await (const file of glob('src/**/*.test.ts')) {
  const isInt = file.endsWith('.int.test.ts');
  if (tier === 'all' || (tier === 'int') === isInt) files.push(file);
}
files.sort();

await rm(RESULTS_DIR, { recursive: true, force: true });
await mkdir(RESULTS_DIR, { recursive: true });
if (files.length === 0) {
  console.log(`no ${tier === 'all' ? '' : `${tier} `}tests in this package`);
  await writeFile(`${RESULTS_DIR}/summary.tap`, '# tests 0\n# pass 0\n# fail 0\n# skipped 0\n');
  process.exit(0);
}
const result = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-timeout=${process.env.TELLY_TEST_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS}`,
    // a test file whose servers or handles outlive its tests (a failed start, a hook that threw
    // before cleaning up) exits when its tests are done: the harness kills what it started then
    '--test-force-exit',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${RESULTS_DIR}/summary.tap`,
    ...process.argv.slice(2),
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
