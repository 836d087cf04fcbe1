import { Kvm } from '@nats-io/kv';
import { processorComponent } from '@telly/runtime';
import { KV_BUCKETS } from '@telly/schemas';
import { migrateRegistry } from './read-model/migrations.ts';
import { registryProjection } from './read-model/projection.ts';

/** The registry projection as a `telly up` component. */
export const component = processorComponent('registry', async ({ nc, pool }) => {
  await migrateRegistry(pool);
  const projection = registryProjection({
    pool,
    credentials: await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS),
  });
  await projection.checkpoint.migrate();
  await projection.drainOutbox(); // whatever a crash left between commit and KV sync
  return projection;
});
