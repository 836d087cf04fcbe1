import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, createLogger, createPgPool } from '@telly/runtime';
import type pg from 'pg';
import { parseConfig } from '../config.ts';
import { platformUrls } from '../up/dependencies.ts';
import { migrate } from '../up/migrate.ts';

/**
 * Runs an operator command against the platform's NATS and Postgres (`NATS_URL` /
 * `DATABASE_URL`, or the servers `telly up` manages on this machine), with every package's
 * tables up to date, and closes both afterwards.
 */
export async function withPlatform<T>(
  fn: (deps: { nc: NatsConnection; js: JetStreamClient; pool: pg.Pool; migrated: string[] }) => Promise<T>,
): Promise<T> {
  const config = parseConfig(process.env);
  const { nats, databaseUrl } = await platformUrls(config);
  const logger = createLogger('telly', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const nc = await connectNats(nats, 'telly-ops');
  const pool = createPgPool({ connectionString: databaseUrl, max: 4 }, logger);
  try {
    const migrated = await migrate(pool);
    return await fn({ nc, js: jetstream(nc), pool, migrated });
  } finally {
    await pool.end();
    await nc.close();
  }
}

/** `telly migrate`: prints the migration sets brought up to date. */
export async function migrateCommand(): Promise<number> {
  const migrated = await withPlatform(async ({ migrated }) => migrated);
  console.log(`migrations up to date: ${migrated.join(', ')}`);
  return 0;
}
