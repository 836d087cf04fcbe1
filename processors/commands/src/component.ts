import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  ConfigError,
  createPgPool,
  defineComponent,
  type RunningProcessor,
  runProcessor,
} from '@telly/runtime';
import { startExpiryClock } from './expiry.ts';
import { migrateCommands } from './migrations.ts';
import { requestedProjection, statusProjection } from './projection.ts';

/** The commands read model and expiry clock as a `telly up` component. */
export const component = defineComponent({
  name: 'commands',
  async start(ctx) {
    const natsUrl = ctx.env.NATS_URL;
    const databaseUrl = ctx.env.DATABASE_URL;
    if (!natsUrl) throw new ConfigError('NATS_URL', 'is required');
    if (!databaseUrl) throw new ConfigError('DATABASE_URL', 'is required');
    const nc = await connect({ servers: natsUrl.split(','), name: 'commands', maxReconnectAttempts: -1 });
    const pool = createPgPool({ connectionString: databaseUrl, max: 4 }, ctx.logger);
    await migrateCommands(pool);
    const running: RunningProcessor[] = [];
    for (const projection of [requestedProjection(pool), statusProjection(pool)]) {
      await projection.checkpoint.migrate();
      running.push(
        await runProcessor(projection, { nc, logger: ctx.logger, metrics: ctx.metrics, health: ctx.health }),
      );
    }
    const clock = startExpiryClock(pool, jetstream(nc), ctx.logger);
    return {
      async stop() {
        clock.stop();
        for (const processor of running) await processor.stop();
        await nc.drain();
        await pool.end();
      },
    };
  },
});
