// defineComponent against a real NATS and Postgres: the pool it connects carries the
// component's statement timeout, so no statement of that component can hold the database.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type NatsAndPostgres, startNatsAndPostgres } from '@telly/harness';
import type pg from 'pg';
import { defineComponent } from './component.ts';
import { HealthChecks } from './health.ts';
import { createLogger } from './logger.ts';
import { createMetricsRegistry } from './metrics.ts';

let servers: NatsAndPostgres;

before(async () => {
  servers = await startNatsAndPostgres();
});

after(() => servers?.stop());

test('a statement longer than statementTimeoutMs is cancelled on the component pool', async () => {
  let pool: pg.Pool | undefined;
  const component = defineComponent({
    name: 'timeout-test',
    uses: { postgres: { statementTimeoutMs: 300 } },
    async start(ctx) {
      pool = ctx.pool;
    },
  });
  const running = await component.start({
    name: 'timeout-test',
    env: { NATS_URL: servers.nats.url, DATABASE_URL: servers.db.url },
    logger: createLogger('timeout-test', { LOG_LEVEL: 'error' }),
    metrics: createMetricsRegistry('timeout-test'),
    health: new HealthChecks(),
  });
  try {
    assert.ok(pool);
    const { rows } = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
    assert.equal(rows[0]?.statement_timeout, '300ms');
    const started = Date.now();
    await assert.rejects(pool.query('SELECT pg_sleep(5)'), (err: { code?: string }) => err.code === '57014');
    assert.ok(Date.now() - started < 3_000);
    // the connection is still good for the next statement
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0]?.one, 1);
  } finally {
    await running.stop();
  }
});
