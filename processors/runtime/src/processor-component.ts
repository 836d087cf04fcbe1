import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { type Component, defineComponent } from './component.ts';
import { ConfigError, envUrl } from './config.ts';
import type { Logger } from './logger.ts';
import { connectNats } from './nats.ts';
import { createPgPool } from './pg-pool.ts';
import { type RunningProcessor, runProcessor } from './processor/run.ts';
import type { ProcessorDefinition } from './processor/types.ts';

/** What a processor component gets to build its definition from. */
export interface ProcessorDeps {
  nc: NatsConnection;
  pool: pg.Pool;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

/** What a processor component runs: one definition, or several plus what else it started. */
export type ProcessorSetup =
  | ProcessorDefinition
  | {
      processors: ProcessorDefinition[];
      /** Stops what setup started besides the processors. */
      stop?: () => void;
    };

/**
 * A processor as a `telly up` component: connects to NATS (`NATS_URL`) and Postgres
 * (`DATABASE_URL`), builds the definition(s) (migrations go in `setup`), runs it with the
 * component's logger, metrics and health, and drains everything on stop.
 */
export function processorComponent(
  name: string,
  setup: (deps: ProcessorDeps) => Promise<ProcessorSetup>,
): Component {
  return defineComponent({
    name,
    async start(ctx) {
      const natsUrl = envUrl(ctx.env, 'NATS_URL', ['nats', 'tls']);
      const databaseUrl = envUrl(ctx.env, 'DATABASE_URL', ['postgres', 'postgresql']);
      if (!natsUrl) throw new ConfigError('NATS_URL', 'is required');
      if (!databaseUrl) throw new ConfigError('DATABASE_URL', 'is required');
      const nc = await connectNats(natsUrl.href, name);
      const pool = createPgPool({ connectionString: databaseUrl.href, max: 4 }, ctx.logger);
      try {
        const started = await setup({ nc, pool, env: ctx.env, logger: ctx.logger });
        const definitions = 'processors' in started ? started.processors : [started];
        const running: RunningProcessor[] = [];
        for (const definition of definitions) {
          running.push(
            await runProcessor(definition, {
              nc,
              logger: ctx.logger,
              metrics: ctx.metrics,
              health: ctx.health,
            }),
          );
        }
        return {
          async stop() {
            if ('processors' in started) started.stop?.();
            for (const processor of running) await processor.stop();
            await nc.drain();
            await pool.end();
          },
        };
      } catch (err) {
        await nc.close();
        await pool.end();
        throw err;
      }
    },
  });
}
