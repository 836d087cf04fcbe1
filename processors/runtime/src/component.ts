import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { HealthChecks } from './health.ts';
import type { Logger } from './logger.ts';
import { type MigrationSet, runMigrations, runtimeMigrations } from './migrations.ts';
import { connectNats, natsHealthCheck } from './nats.ts';
import { createPgPool } from './pg-pool.ts';
import { type NatsConfig, parseDatabaseUrl, parseNatsConfig } from './platform-config.ts';
import { type RunningProcessor, runProcessor } from './processor/run.ts';
import type { ProcessorDefinition } from './processor/types.ts';

/** @default connections of a component's Postgres pool */
export const DEFAULT_POOL_SIZE = 4;

/** What the host (`telly up`'s child process, or a test) hands a component when it starts it. */
export interface ComponentContext {
  name: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  metrics: Registry;
  health: HealthChecks;
}

/** Where a component can be reached, as it reports once listening (`telly up` prints these). */
export interface Endpoint {
  /** What it serves, e.g. `MQTT (TCP)`. */
  label: string;
  url: string;
}

export interface RunningComponent {
  /** The addresses it listens on. */
  endpoints: Endpoint[];
  /** Drains in-flight work and releases everything; resolves when it is safe to exit. */
  stop(): Promise<void>;
}

/** A long-running part of Telly (a bridge, a processor, the API) that `telly up` supervises. */
export interface Component {
  name: string;
  /** The owning package's tables, which `telly migrate` runs before any component starts. */
  migrations: MigrationSet[];
  /** Parses the component's own settings, throwing the `ConfigError` `start` would throw. */
  checkConfig(env: NodeJS.ProcessEnv): void;
  start(ctx: ComponentContext): Promise<RunningComponent>;
}

/** The infrastructure a component declares; the runtime connects it and releases it on stop. */
export interface ComponentUses {
  /** A Postgres pool on `DATABASE_URL`, with the package's own migrations applied first. */
  postgres?: {
    /** Only the owning package's set; the runtime's checkpoint tables come with every pool. */
    migrations?: MigrationSet;
    /** @default DEFAULT_POOL_SIZE */
    poolSize?: number;
    /**
     * Postgres's `statement_timeout` on every connection of the pool (a connection option): a
     * statement running longer is cancelled, so no caller can hold the database. @default none
     */
    statementTimeoutMs?: number;
  };
}

/** What `start` gets: the host's context, the parsed config and the connected infrastructure. */
export type StartContext<C, U extends ComponentUses> = ComponentContext & {
  config: C;
  nc: NatsConnection;
  nats: NatsConfig;
  /** Runs on stop, in reverse order of registration (after what `start` registered later). */
  onStop(fn: () => Promise<void> | void): void;
  /** Reports an address the component listens on. */
  endpoint(label: string, url: string): void;
  /** Runs a processor on this component's NATS connection, logger, metrics and health; stopped on stop. */
  run(definition: ProcessorDefinition): Promise<RunningProcessor>;
} & (U['postgres'] extends object ? { pool: pg.Pool } : unknown);

export interface ComponentSpec<C, U extends ComponentUses> {
  /** Unique name: logs, metrics (`component` label), `/healthz`, the NATS connection name. */
  name: string;
  /** Parses the component's own settings once; a bad value throws a `ConfigError`. */
  config?: (env: NodeJS.ProcessEnv) => C;
  uses?: U;
  start(ctx: StartContext<C, U>): Promise<void>;
}

/**
 * The one way to build a component. The runtime parses the platform environment (`NATS_URL`
 * list and credentials, `DATABASE_URL`) and the component's own config, connects NATS (and
 * Postgres when declared, running only the package's own migrations), registers the `nats` and
 * `postgres` health checks, then calls `start`. Whatever was registered with `onStop` — by the
 * runtime first, by `start` after — is released in reverse order on stop, or at once when
 * `start` fails.
 */
export function defineComponent<C = undefined, const U extends ComponentUses = ComponentUses>(
  spec: ComponentSpec<C, U>,
): Component {
  const ownMigrations = spec.uses?.postgres?.migrations;
  return {
    name: spec.name,
    migrations: ownMigrations ? [ownMigrations] : [],
    checkConfig: (env) => void spec.config?.(env),
    async start(host) {
      const nats = parseNatsConfig(host.env);
      const databaseUrl = spec.uses?.postgres ? parseDatabaseUrl(host.env) : undefined;
      const config = spec.config ? spec.config(host.env) : (undefined as C);
      const stops: Array<() => Promise<void> | void> = [];
      const endpoints: Endpoint[] = [];
      const stop = async () => {
        for (const fn of stops.splice(0).reverse()) {
          try {
            await fn();
          } catch (err) {
            host.logger.warn({ err }, 'releasing a resource failed');
          }
        }
      };
      try {
        const nc = await connectNats(nats, spec.name);
        stops.push(() => nc.drain());
        host.health.add('nats', natsHealthCheck(nc));
        const ctx: Record<string, unknown> = {
          ...host,
          config,
          nc,
          nats,
          onStop: (fn: () => Promise<void> | void) => void stops.push(fn),
          endpoint: (label: string, url: string) => void endpoints.push({ label, url }),
          run: async (definition: ProcessorDefinition) => {
            const running = await runProcessor(definition, {
              nc,
              logger: host.logger,
              metrics: host.metrics,
              health: host.health,
            });
            stops.push(() => running.stop());
            return running;
          },
        };
        if (databaseUrl !== undefined) {
          const size = spec.uses?.postgres?.poolSize ?? DEFAULT_POOL_SIZE;
          const timeout = spec.uses?.postgres?.statementTimeoutMs;
          const pool = createPgPool(
            { connectionString: databaseUrl, max: size, ...(timeout ? { statement_timeout: timeout } : {}) },
            host.logger,
          );
          stops.push(() => pool.end());
          host.health.add('postgres', async () => {
            await pool.query('SELECT 1');
            return { status: 'up' };
          });
          await runMigrations(pool, runtimeMigrations, ...(ownMigrations ? [ownMigrations] : []));
          ctx.pool = pool;
        }
        await spec.start(ctx as StartContext<C, U>);
      } catch (err) {
        await stop();
        throw err;
      }
      return { endpoints, stop };
    },
  };
}
