import { defineComponent } from '@telly/runtime';
import { telemetryMigrations } from './migrations.ts';
import { telemetryProjection } from './projection.ts';

/** The Postgres telemetry projection: raw points, latest values and rollups. */
export const component = defineComponent({
  name: 'telemetry-pg',
  uses: { postgres: { migrations: telemetryMigrations } },
  async start({ pool, run }) {
    await run(telemetryProjection(pool));
  },
});
