// The tools deploy/scripts/deploy-tools.sh builds once into the cache (setup.sh test runs it):
// their paths, and a check that names the script when one is missing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '@telly/harness';

export const KUSTOMIZE = join(cacheDir(), 'kustomize-v5.8.1', 'kustomize');
export const KUBERNETES_VALIDATE = join(
  cacheDir(),
  'kubernetes-validate-1.37.0',
  'bin',
  'kubernetes-validate',
);
/** natscli, the `nats` command of the backup guide (docs/operations.md#backups). */
export const NATSCLI = join(cacheDir(), 'natscli-v0.5.1', 'nats');

/** `path`, failing the test with how to get `what` when it is not there. */
export function required(path: string, what: string): string {
  assert.ok(
    existsSync(path),
    `${what} missing at ${path}: run npm run setup (deploy/scripts/deploy-tools.sh)`,
  );
  return path;
}
