import { jetstream } from '@nats-io/jetstream';
import { defineComponent, Publisher } from '@telly/runtime';
import { startExpiryClock } from './expiry.ts';
import { commandsMigrations } from './migrations.ts';
import { requestedProjection, scheduledProjection, statusProjection } from './projection.ts';

/** The commands read model (scheduled commands included) and the expiry clock. */
export const component = defineComponent({
  name: 'commands',
  uses: { postgres: { migrations: commandsMigrations } },
  async start({ nc, pool, logger, metrics, run, onStop }) {
    await run(requestedProjection(pool, { metrics }));
    await run(statusProjection(pool, { metrics }));
    await run(scheduledProjection(pool, { metrics }));
    const clock = startExpiryClock(pool, new Publisher(jetstream(nc)), logger);
    onStop(() => clock.stop());
  },
});
