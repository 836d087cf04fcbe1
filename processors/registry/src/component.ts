import { Kvm } from '@nats-io/kv';
import { defineComponent } from '@telly/runtime';
import { KV_BUCKETS } from '@telly/schemas';
import { registryMigrations } from './read-model/migrations.ts';
import { registryProjection } from './read-model/projection.ts';

/** The registry read model and the `credentials` KV projection. */
export const component = defineComponent({
  name: 'registry',
  uses: { postgres: { migrations: registryMigrations } },
  async start({ nc, pool, run }) {
    const credentials = await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS);
    const projection = registryProjection({ pool, credentials });
    await projection.drainOutbox(); // whatever a crash left between commit and KV sync
    await run(projection);
  },
});
