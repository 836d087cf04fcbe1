import { defineComponent } from '@telly/runtime';
import { createApi } from './compose.ts';
import { parseApiConfig } from './config.ts';
import { apiMigrations } from './migrations.ts';

/** No statement of an API query runs longer (the pool's `statement_timeout`). @default 5 s */
export const API_STATEMENT_TIMEOUT_MS = 5_000;

/** The GraphQL API, the bootstrap endpoint and the CSV export. */
export const component = defineComponent({
  name: 'api',
  config: parseApiConfig,
  uses: {
    postgres: { migrations: apiMigrations, poolSize: 10, statementTimeoutMs: API_STATEMENT_TIMEOUT_MS },
  },
  async start({ config, nc, pool, logger, onStop }) {
    const api = await createApi({ config, nc, pool, logger });
    const port = await api.listen(config.port, config.host);
    onStop(() => api.close());
    logger.info({ port, host: config.host }, 'GraphQL API listening');
  },
});
