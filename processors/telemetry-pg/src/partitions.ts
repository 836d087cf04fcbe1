import { withTransaction } from '@telly/runtime';
import type pg from 'pg';
import { LIVE_TABLES, type TelemetryTables } from './tables.ts';

/** `telemetry_y2026m11` for any instant in November 2026 (UTC) (`<prefix>_y2026m11` for another set). */
export function partitionOf(
  timeMs: number,
  prefix = LIVE_TABLES.prefix,
): { name: string; from: string; to: string } {
  const d = new Date(timeMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const from = new Date(Date.UTC(year, month, 1)).toISOString();
  const to = new Date(Date.UTC(year, month + 1, 1)).toISOString();
  return { name: `${prefix}_y${year}m${String(month + 1).padStart(2, '0')}`, from, to };
}

/**
 * Creates the monthly partitions these points need (once per process per month). Serialized
 * with an advisory lock so that instances creating the same partition do not collide.
 */
export class Partitions {
  readonly #known = new Set<string>();
  /** The months of `#known` as [from, to) in ms: most points fall in one, found without a Date. */
  #knownRanges: [number, number][] = [];
  readonly #tables: TelemetryTables;

  constructor(tables: TelemetryTables = LIVE_TABLES) {
    this.#tables = tables;
  }

  /** Forgets what was created: after a replay swapped the tables, the months are asked again. */
  forget(): void {
    this.#known.clear();
    this.#knownRanges = [];
  }

  /** Creates the partitions these points need in a transaction of its own. */
  async ensure(pool: pg.Pool, timesMs: Iterable<number>): Promise<void> {
    await this.#ensure(timesMs, (create) => withTransaction(pool, create));
  }

  /** The same inside the caller's transaction (the lock is held until it ends). */
  async ensureWithin(client: pg.PoolClient, timesMs: Iterable<number>): Promise<void> {
    await this.#ensure(timesMs, (create) => create(client));
  }

  async #ensure(
    timesMs: Iterable<number>,
    run: (create: (client: pg.PoolClient) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const needed = new Map<string, { name: string; from: string; to: string }>();
    for (const t of timesMs) {
      if (this.#knownRanges.some(([from, to]) => t >= from && t < to)) continue;
      const p = partitionOf(t, this.#tables.prefix);
      if (!this.#known.has(p.name)) needed.set(p.name, p);
    }
    if (needed.size === 0) return;
    await run(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('telly_telemetry_partitions'))`);
      for (const p of needed.values()) {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF ${this.#tables.raw} FOR VALUES FROM ('${p.from}') TO ('${p.to}')`,
        );
      }
    });
    for (const p of needed.values()) {
      this.#known.add(p.name);
      this.#knownRanges.push([Date.parse(p.from), Date.parse(p.to)]);
    }
  }
}
