import { jetstream } from '@nats-io/jetstream';
import { Publisher, processorComponent } from '@telly/runtime';
import { startExpiryClock } from './expiry.ts';
import { migrateCommands } from './migrations.ts';
import { requestedProjection, statusProjection } from './projection.ts';

/** The commands read model and expiry clock as a `telly up` component. */
export const component = processorComponent('commands', async ({ nc, pool, logger }) => {
  await migrateCommands(pool);
  const processors = [requestedProjection(pool), statusProjection(pool)];
  for (const processor of processors) await processor.checkpoint.migrate();
  const clock = startExpiryClock(pool, new Publisher(jetstream(nc)), logger);
  return { processors, stop: () => clock.stop() };
});
