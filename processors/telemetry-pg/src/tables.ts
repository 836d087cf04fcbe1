/**
 * The names of one set of telemetry tables. The live set is `telemetry`, `telemetry_latest`,
 * `telemetry_rollup_1m/1h` with monthly partitions `telemetry_y2026m11`; a replay builds a
 * second set beside it under another prefix and swaps it in by renaming. Their shape is in the
 * frozen migrations only (src/migrations/), which a replay builds its set from.
 *
 * The telemetry read model: raw points (range-partitioned by month, partitions created as data
 * arrives), the latest value per thing and name, and 1-minute / 1-hour rollups that the
 * projection maintains as it writes. All of it is rebuilt by replaying MESSAGES. FIRST and LAST
 * follow the order (time, seq, idx): time, then position in the log, then position in the
 * pack, so they are the same whatever order points arrive in.
 */
export interface TelemetryTables {
  prefix: string;
  raw: string;
  latest: string;
  rollups: readonly { table: string; unit: 'minute' | 'hour' }[];
}

export function telemetryTables(prefix: string): TelemetryTables {
  if (!/^[a-z_]+$/.test(prefix)) throw new Error(`bad telemetry table prefix ${prefix}`);
  return {
    prefix,
    raw: prefix,
    latest: `${prefix}_latest`,
    rollups: [
      { table: `${prefix}_rollup_1m`, unit: 'minute' },
      { table: `${prefix}_rollup_1h`, unit: 'hour' },
    ],
  };
}

/** The tables the projection writes and the queries read. */
export const LIVE_TABLES = telemetryTables('telemetry');

/** Every table of a set, partitions aside (they follow their parent). */
export function tablesOf(tables: TelemetryTables): string[] {
  return [tables.raw, tables.latest, ...tables.rollups.map((r) => r.table)];
}

/** Tables a rebuild empties (partitions go with `telemetry`). */
export const TELEMETRY_TABLES: readonly string[] = tablesOf(LIVE_TABLES);
