import pg from 'pg';
import type { Logger } from './logger.ts';

/**
 * A Postgres pool that survives its server going away: pg emits `error` on the pool for an idle
 * client whose connection dies (a Postgres restart, a failover), and an unhandled `error` would
 * crash the process. The dead client is discarded; the next query opens a fresh connection.
 */
export function createPgPool(config: pg.PoolConfig, logger: Logger): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', (err) =>
    logger.warn({ err: err.message }, 'idle Postgres connection lost; it will be replaced'),
  );
  return pool;
}
