// Runs the firmware's Makefile (incremental: objects are kept in firmware/build, git-ignored) and
// the programs it builds, for the node tests of this package.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The firmware folder (holding the Makefile). */
export const FIRMWARE_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in the firmware folder to its end. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: FIRMWARE_DIR, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Builds a Makefile target; throws with the compiler's output when it fails. Test files running
 * side by side share build/, so each make holds a lock on it (flock, util-linux).
 */
export async function make(target: string): Promise<void> {
  await mkdir(join(FIRMWARE_DIR, 'build'), { recursive: true });
  const result = await run('flock', ['build/.lock', 'make', '-j2', '--no-print-directory', target]);
  if (result.code !== 0) {
    throw new Error(`make ${target} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}
