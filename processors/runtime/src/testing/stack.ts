// Test support: what the integration tests of processors, bridges and the API start on — a
// nats-server with the stream topology, a fresh database with the runtime's checkpoint tables
// and the migration sets a test names, and processors run the way a component runs them; one
// `stop()` for all of it.
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type NatsAndPostgres, type NatsAndPostgresOptions, startNatsAndPostgres } from '@telly/harness';
import type pg from 'pg';
import { createLogger, type Logger } from '../logger.ts';
import { type MigrationSet, runMigrations, runtimeMigrations } from '../migrations.ts';
import { createPgPool } from '../pg-pool.ts';
import { type RunningProcessor, runProcessor } from '../processor/run.ts';
import type { ProcessorDefinition } from '../processor/types.ts';
import { ensureTopology } from '../topology.ts';

export interface RuntimeTestStack extends NatsAndPostgres {
  /** A connection to the nats-server, closed by `stop()` after the processors stopped. */
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** A pool on the test database, ended by `stop()` after the processors stopped. */
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** Runs a processor on `nc` as its component would; `stop()` stops it before anything else. */
  run(def: ProcessorDefinition): Promise<RunningProcessor>;
}

export interface RuntimeTestStackOptions extends NatsAndPostgresOptions {
  /** The logger's name, when no `logger` is given. */
  readonly name: string;
  /** @default errors only (or `LOG_LEVEL`) */
  readonly logger?: Logger;
  /** Run after the runtime's own set, in this order. @default [] */
  readonly migrations?: readonly MigrationSet[];
  /** Options of the pool besides its connection string. @default {} */
  readonly pool?: Omit<pg.PoolConfig, 'connectionString'>;
}

/**
 * Starts a nats-server and a test database (see `startNatsAndPostgres` of `@telly/harness`),
 * connects to both, puts the stream topology in place and runs the runtime's migrations, then
 * `options.migrations`. When a step fails, what was started is stopped before the error is thrown.
 */
export async function startRuntimeTestStack(options: RuntimeTestStackOptions): Promise<RuntimeTestStack> {
  const servers = await startNatsAndPostgres(options);
  try {
    const logger =
      options.logger ?? createLogger(options.name, { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' });
    const nc = await connect({ servers: servers.nats.url });
    servers.onStop(() => nc.close());
    const jsm = await jetstreamManager(nc);
    await ensureTopology(nc, jsm);
    const pool = createPgPool({ ...options.pool, connectionString: servers.db.url }, logger);
    servers.onStop(() => pool.end());
    await runMigrations(pool, runtimeMigrations, ...(options.migrations ?? []));
    return {
      ...servers,
      nc,
      jsm,
      pool,
      logger,
      async run(def) {
        const running = await runProcessor(def, { nc, logger });
        servers.onStop(() => running.stop());
        return running;
      },
    };
  } catch (err) {
    await servers.stop().catch(() => {});
    throw err;
  }
}
