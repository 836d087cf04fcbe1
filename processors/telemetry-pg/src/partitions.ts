import { withTransaction } from '@telly/runtime';
import type pg from 'pg';

/** `telemetry_y2026m11` for any instant in November 2026 (UTC). */
export function partitionOf(timeMs: number): { name: string; from: string; to: string } {
  const d = new Date(timeMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const from = new Date(Date.UTC(year, month, 1)).toISOString();
  const to = new Date(Date.UTC(year, month + 1, 1)).toISOString();
  return { name: `telemetry_y${year}m${String(month + 1).padStart(2, '0')}`, from, to };
}

/**
 * Creates the monthly partitions these points need (once per process per month). Serialized
 * with an advisory lock so that instances creating the same partition do not collide.
 */
export class Partitions {
  readonly #known = new Set<string>();

  async ensure(pool: pg.Pool, timesMs: Iterable<number>): Promise<void> {
    const needed = new Map<string, { name: string; from: string; to: string }>();
    for (const t of timesMs) {
      const p = partitionOf(t);
      if (!this.#known.has(p.name)) needed.set(p.name, p);
    }
    if (needed.size === 0) return;
    await withTransaction(pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('telly_telemetry_partitions'))`);
      for (const p of needed.values()) {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF telemetry FOR VALUES FROM ('${p.from}') TO ('${p.to}')`,
        );
      }
    });
    for (const name of needed.keys()) this.#known.add(name);
  }
}
