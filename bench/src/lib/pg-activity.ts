import pg from 'pg';

/** What Postgres did in a database over a period, per second: transactions and rows written. */
export interface PgActivity {
  commitsPerSecond: number;
  rowsInsertedPerSecond: number;
  rowsUpdatedPerSecond: number;
  rowsDeletedPerSecond: number;
}

interface Counters {
  at: number;
  commits: number;
  inserted: number;
  updated: number;
  deleted: number;
}

/**
 * Samples `pg_stat_database` of the database at `url` at start and stop, to say how much of a
 * scenario's Postgres CPU is transactions and how much rows. The counters are Postgres' own,
 * sent by its backends when a transaction ends (within about a second).
 */
export class PgActivityMonitor {
  readonly #pool: pg.Pool;
  #start: Counters | undefined;

  constructor(url: string) {
    this.#pool = new pg.Pool({ connectionString: url, max: 1 });
  }

  async #read(): Promise<Counters> {
    const { rows } = await this.#pool.query<{ c: string; i: string; u: string; d: string }>(
      `SELECT xact_commit AS c, tup_inserted AS i, tup_updated AS u, tup_deleted AS d
       FROM pg_stat_database WHERE datname = current_database()`,
    );
    const r = rows[0]!;
    return { at: performance.now(), commits: +r.c, inserted: +r.i, updated: +r.u, deleted: +r.d };
  }

  async start(): Promise<void> {
    await this.#pool.query('SELECT pg_stat_clear_snapshot()');
    this.#start = await this.#read();
  }

  async stop(): Promise<PgActivity> {
    await this.#pool.query('SELECT pg_stat_clear_snapshot()');
    const end = await this.#read();
    const start = this.#start!;
    const s = (end.at - start.at) / 1000;
    const per = (a: number, b: number) => Math.round((a - b) / s);
    return {
      commitsPerSecond: per(end.commits, start.commits),
      rowsInsertedPerSecond: per(end.inserted, start.inserted),
      rowsUpdatedPerSecond: per(end.updated, start.updated),
      rowsDeletedPerSecond: per(end.deleted, start.deleted),
    };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
