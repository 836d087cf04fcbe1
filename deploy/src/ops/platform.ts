import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, createLogger, createPgPool } from '@telly/runtime';
import { errorPredicate, TellyError } from '@telly/schemas';
import type pg from 'pg';
import { parseConfig, type UpConfig } from '../config.ts';
import { platformNats, platformUrls } from '../up/dependencies.ts';
import { migrate } from '../up/migrate.ts';

/**
 * An operator command could not reach the platform as configured. Its message is one line that
 * says what failed and names the setting to fix; `telly` prints it and exits 1.
 */
export class PlatformUnreachableError extends TellyError<'PLATFORM_UNREACHABLE'> {
  constructor(message: string, options?: ErrorOptions) {
    super('PLATFORM_UNREACHABLE', message, options);
  }
}

export const isPlatformUnreachable = errorPredicate(PlatformUnreachableError);

/** How long an operator command waits for Postgres to accept its connection. */
const PG_CONNECT_TIMEOUT_MS = 5_000;

const reason = (err: unknown) => ((err as Error).message || String(err)).split('\n')[0];

/** The settings that point at the managed servers, or at given ones. */
function where(config: UpConfig, server: 'nats' | 'postgres'): string {
  if (server === 'nats') {
    return config.nats
      ? 'check NATS_URL and its credentials'
      : `is telly up running with this TELLY_NATS_PORT (${config.natsPort}) and TELLY_DATA_DIR (${config.dataDir})? Or set NATS_URL`;
  }
  return config.databaseUrl
    ? 'check DATABASE_URL'
    : `is telly up running with this TELLY_POSTGRES_PORT (${config.postgresPort}) and TELLY_DATA_DIR (${config.dataDir})? Or set DATABASE_URL`;
}

/**
 * Connects to the platform's NATS as the operator (`NATS_URL` and its credentials, or the
 * nats-server `telly up` manages here, with the password it keeps in the data dir).
 * Unreachable, or refusing the credentials, is a {@link PlatformUnreachableError}.
 */
export async function connectPlatformNats(
  config: UpConfig,
  name = 'telly-ops',
): Promise<{ nc: NatsConnection; natsUrl: string }> {
  const { natsUrl, nats } = await platformNats(config);
  const nc = await connectNats(nats, name).catch((err: unknown) => {
    throw new PlatformUnreachableError(
      `cannot reach NATS at ${natsUrl} (${reason(err)}): ${where(config, 'nats')}`,
      { cause: err },
    );
  });
  return { nc, natsUrl };
}

/**
 * Connects to the platform's NATS ({@link connectPlatformNats}) and Postgres (`DATABASE_URL`,
 * or the one `telly up` manages here). Either one unreachable, or refusing the credentials, is
 * a {@link PlatformUnreachableError}.
 */
export async function connectPlatform(
  config: UpConfig,
): Promise<{ nc: NatsConnection; pool: pg.Pool; close(): Promise<void> }> {
  const { databaseUrl } = await platformUrls(config);
  const { nc } = await connectPlatformNats(config);
  const logger = createLogger('telly', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const pool = createPgPool(
    { connectionString: databaseUrl, max: 4, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS },
    logger,
  );
  const close = async () => {
    await pool.end();
    await nc.close();
  };
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await close();
    const url = new URL(databaseUrl);
    throw new PlatformUnreachableError(
      `cannot reach Postgres at ${url.host}${url.pathname} (${reason(err)}): ${where(config, 'postgres')}`,
      { cause: err },
    );
  }
  return { nc, pool, close };
}

/**
 * Runs an operator command against the platform ({@link connectPlatform}), with every
 * package's tables up to date, and closes both connections afterwards.
 */
export async function withPlatform<T>(
  fn: (deps: { nc: NatsConnection; js: JetStreamClient; pool: pg.Pool; migrated: string[] }) => Promise<T>,
): Promise<T> {
  const { nc, pool, close } = await connectPlatform(parseConfig(process.env));
  try {
    const migrated = await migrate(pool);
    return await fn({ nc, js: jetstream(nc), pool, migrated });
  } finally {
    await close();
  }
}

/** `telly migrate`: prints the migration sets brought up to date. */
export async function migrateCommand(): Promise<number> {
  const migrated = await withPlatform(async ({ migrated }) => migrated);
  console.log(`migrations up to date: ${migrated.join(', ')}`);
  return 0;
}
