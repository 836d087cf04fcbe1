import { NatsServer, type NatsServerOptions } from './nats-server.ts';
import { type PostgresOptions, PostgresServer, startTestDatabase, type TestDatabase } from './postgres.ts';

/** A cleanup registered with {@link NatsAndPostgres.onStop}. */
export type StopFn = () => unknown;

/**
 * A nats-server and a fresh test database, started together, with one `stop()` for them and for
 * whatever a test builds on them (connections, pools, processors).
 */
export interface NatsAndPostgres extends AsyncDisposable {
  readonly nats: NatsServer;
  readonly db: TestDatabase;
  /**
   * Registers `fn` to run at `stop()`, last registered first, before the servers stop: register a
   * connection's close right after opening it.
   */
  onStop(fn: StopFn): void;
  /**
   * Runs the registered cleanups in reverse order, then stops both servers. A failing cleanup
   * does not keep the others or the servers from stopping; the first failure is thrown at the
   * end. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
}

export interface NatsAndPostgresOptions {
  /** Options of the nats-server. @default {} */
  readonly nats?: NatsServerOptions;
  /**
   * Where `DATABASE_URL` is read from (see {@link startTestDatabase}); `{}` always starts an
   * embedded server, which a test can then stop or restart through `db.server`.
   * @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Starts a Postgres server of the stack's own with these options instead (`env` is not read):
   * for tests that kill it and need what it committed to survive, `{ durable: true }`.
   */
  readonly postgres?: PostgresOptions;
}

/** A Postgres server of its own, its default database as the test database. */
async function ownDatabase(options: PostgresOptions): Promise<TestDatabase> {
  const server = await PostgresServer.start(options);
  const stop = () => server.stop();
  return { url: server.url(), server, stop, [Symbol.asyncDispose]: stop };
}

/**
 * Starts a nats-server and a test database in parallel. When one of them fails to start, the
 * other is stopped before the error is thrown.
 */
export async function startNatsAndPostgres(options: NatsAndPostgresOptions = {}): Promise<NatsAndPostgres> {
  const [nats, db] = await Promise.allSettled([
    NatsServer.start(options.nats),
    options.postgres ? ownDatabase(options.postgres) : startTestDatabase(options.env),
  ]);
  if (nats.status === 'rejected' || db.status === 'rejected') {
    await Promise.allSettled([
      nats.status === 'fulfilled' ? nats.value.stop() : undefined,
      db.status === 'fulfilled' ? db.value.stop() : undefined,
    ]);
    throw nats.status === 'rejected' ? nats.reason : (db as PromiseRejectedResult).reason;
  }
  const cleanups: StopFn[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const failures: unknown[] = [];
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch (err) {
          failures.push(err);
        }
      }
      for (const result of await Promise.allSettled([nats.value.stop(), db.value.stop()])) {
        if (result.status === 'rejected') failures.push(result.reason);
      }
      if (failures.length > 0) throw failures[0];
    })();
    return stopping;
  };
  return {
    nats: nats.value,
    db: db.value,
    onStop(fn) {
      if (stopping) throw new Error('onStop after stop()');
      cleanups.push(fn);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
