import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NATS_USERS, type NatsUser } from './nats-auth.ts';

/** Where `telly up` keeps the secrets it generates: `<data dir>/secrets`, mode 0700. */
export const secretsDir = (dataDir: string): string => join(dataDir, 'secrets');

/**
 * The secret in `<data dir>/secrets/<name>`, generated (24 random bytes, base64url) at first
 * use into a file of mode 0600; the directory is kept at 0700. Never logged.
 */
export async function readOrCreateSecret(dataDir: string, name: string): Promise<string> {
  const dir = secretsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700); // a directory made by an older version, or by hand
  const file = join(dir, name);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(24).toString('base64url');
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    // another process created it first: its secret is the one
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
    throw err;
  }
}

/** The managed nats-server's password of every Telly user (`nats-<user>.password`). */
export async function natsPasswords(dataDir: string): Promise<Record<NatsUser, string>> {
  const entries = await Promise.all(
    NATS_USERS.map(
      async (user) => [user, await readOrCreateSecret(dataDir, `nats-${user}.password`)] as const,
    ),
  );
  return Object.fromEntries(entries) as Record<NatsUser, string>;
}
