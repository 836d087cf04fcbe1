import { processorComponent } from '@telly/runtime';
import { migrateTelemetry } from './migrations.ts';
import { telemetryProjection } from './projection.ts';

/** The Postgres telemetry projection as a `telly up` component. */
export const component = processorComponent('telemetry-pg', async ({ pool }) => {
  await migrateTelemetry(pool);
  const projection = telemetryProjection(pool);
  await projection.checkpoint.migrate();
  return projection;
});
