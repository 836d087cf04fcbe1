import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@telly/runtime';
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

/**
 * The secret `telly up` generated into `<data dir>/secrets/<name>`, for commands that only read
 * (`telly verify`, `telly replay`…): never creates it. Missing, it throws a {@link ConfigError}
 * naming `TELLY_DATA_DIR` — the data dir is not one `telly up` ran on.
 */
export async function readSecret(dataDir: string, name: string): Promise<string> {
  const file = join(secretsDir(dataDir), name);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new ConfigError(
      'TELLY_DATA_DIR',
      `${dataDir} is not the data dir of a platform (no ${file}): set it to the one telly up runs on, or set NATS_URL and DATABASE_URL`,
    );
  }
}

/** The file of `user`'s password on the managed nats-server. */
export const natsPasswordFile = (user: NatsUser): string => `nats-${user}.password`;

/** The managed nats-server's password of every Telly user (`nats-<user>.password`). */
export async function natsPasswords(dataDir: string): Promise<Record<NatsUser, string>> {
  const entries = await Promise.all(
    NATS_USERS.map(
      async (user) => [user, await readOrCreateSecret(dataDir, natsPasswordFile(user))] as const,
    ),
  );
  return Object.fromEntries(entries) as Record<NatsUser, string>;
}
