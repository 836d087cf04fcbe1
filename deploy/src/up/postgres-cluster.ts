import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readlink, rename, rmdir, stat, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isPostgresAccessError, type PostgresOptions, PostgresServer } from '@telly/harness';
import type { Logger } from '@telly/runtime';

/**
 * Where root keeps the cluster of a data dir the postgres user cannot reach:
 * `<base>/<data dir id>/postgres`.
 */
export const SHARED_CLUSTERS_DIR = '/var/lib/telly';

/** The cluster's place in the data dir: a directory, or a link to the cluster kept elsewhere. */
export const clusterLink = (dataDir: string): string => join(dataDir, 'postgres');

/** The directory of `dataDir`'s cluster when it is kept in {@link SHARED_CLUSTERS_DIR}. */
export function sharedClusterDir(dataDir: string, base = SHARED_CLUSTERS_DIR): string {
  const id = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
  return join(base, id, 'postgres');
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The target of `<data>/postgres` when it is a link (absolute), else undefined. */
async function linkedCluster(dataDir: string): Promise<string | undefined> {
  const link = clusterLink(dataDir);
  const info = await lstat(link).catch(() => undefined);
  if (!info?.isSymbolicLink()) return undefined;
  return resolve(dataDir, await readlink(link));
}

/**
 * The parents of a shared cluster: `base` (made 0711 when missing, left as it is otherwise) and
 * the data dir's own directory (0711, root's), so the postgres user can pass through but not list.
 */
async function prepareParents(cluster: string): Promise<void> {
  const own = dirname(cluster);
  const base = dirname(own);
  if (!(await exists(base))) {
    await mkdir(base, { recursive: true, mode: 0o711 });
    await chmod(base, 0o711);
  }
  await mkdir(own, { recursive: true, mode: 0o711 });
  await chmod(own, 0o711);
}

/**
 * Starts the managed Postgres on the cluster of `dataDir`: `<data>/postgres`. As root, Postgres
 * runs as the postgres user; when it cannot reach a data dir without a cluster yet (a clone in
 * root's home or in a `mktemp -d`), the cluster is made in {@link sharedClusterDir} (0700,
 * the postgres user's) and `<data>/postgres` becomes a link to it, so every later start finds
 * it. The data dir keeps its mode and the secrets stay in it. Still unreachable (an existing
 * cluster in a closed directory, a closed {@link SHARED_CLUSTERS_DIR}): the harness'
 * `PostgresAccessError`.
 */
export async function startClusterPostgres(
  dataDir: string,
  options: Omit<PostgresOptions, 'dataDir'>,
  logger: Logger,
): Promise<PostgresServer> {
  const linked = await linkedCluster(dataDir);
  if (linked) {
    await prepareParents(linked);
    logger.info(
      { cluster: linked, link: clusterLink(dataDir) },
      'postgres cluster kept outside the data dir',
    );
    return PostgresServer.start({ ...options, dataDir: linked });
  }
  const local = clusterLink(dataDir);
  try {
    return await PostgresServer.start({ ...options, dataDir: local });
  } catch (err) {
    if (!isPostgresAccessError(err) || process.getuid?.() !== 0) throw err;
    if (await exists(join(local, 'PG_VERSION'))) throw err; // a cluster of its own: never replaced
  }
  const shared = sharedClusterDir(dataDir);
  await prepareParents(shared);
  if (await exists(shared)) {
    // a cluster left by an earlier data dir at this path (its link and password are gone with it)
    const aside = `${shared}.orphaned-${new Date().toISOString().replaceAll(':', '')}`;
    await rename(shared, aside);
    logger.warn({ cluster: aside }, 'postgres: a cluster no data dir links to was moved aside');
  }
  await rmdir(local).catch(() => {}); // an empty directory in its place
  await symlink(shared, local);
  logger.info(
    { cluster: shared, link: local },
    'postgres cluster kept outside the data dir: the postgres user cannot reach it',
  );
  return PostgresServer.start({ ...options, dataDir: shared });
}
