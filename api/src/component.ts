import { connectNats, createPgPool, defineComponent } from '@telly/runtime';
import { createApi } from './app.ts';
import { parseApiConfig } from './config.ts';

/** The GraphQL API as a `telly up` component. */
export const component = defineComponent({
  name: 'api',
  async start(ctx) {
    const config = parseApiConfig(ctx.env);
    const nc = await connectNats(config.natsUrl, 'api');
    const pool = createPgPool({ connectionString: config.databaseUrl, max: 10 }, ctx.logger);
    ctx.health.add('postgres', async () => {
      await pool.query('SELECT 1');
      return { status: 'up' };
    });
    const api = await createApi({ config, nc, pool, logger: ctx.logger });
    const port = await api.listen(config.port);
    ctx.logger.info({ port }, 'GraphQL API listening');
    return {
      async stop() {
        await api.close();
        await nc.drain();
        await pool.end();
      },
    };
  },
});
