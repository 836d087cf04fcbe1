/**
 * The names of one set of telemetry tables. The live set is `telemetry`, `telemetry_latest`,
 * `telemetry_rollup_1m/1h` with monthly partitions `telemetry_y2026m11`; a replay builds a
 * second set beside it under another prefix and swaps it in by renaming.
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

/** A point's value and position, in the raw and the latest table. */
const POINT_COLUMNS = `unit text,
      time timestamptz NOT NULL,
      value double precision,
      string_value text,
      bool_value boolean,
      data_value text,
      sum double precision,
      seq bigint NOT NULL,
      idx integer NOT NULL`;

/**
 * The DDL of one set of telemetry tables as they are today, which a replay builds its fresh set
 * beside the live one with. A change of shape goes here AND into a new migration that brings
 * the live tables to it (applied migrations are frozen text, never built from this).
 *
 * The telemetry read model: raw points (range-partitioned by month, partitions created as data
 * arrives), the latest value per thing and name, and 1-minute / 1-hour rollups that the
 * projection maintains as it writes. All of it is rebuilt by replaying MESSAGES. FIRST and LAST
 * follow the order (time, seq, idx): time, then position in the log, then position in the
 * pack, so they are the same whatever order points arrive in.
 */
export function telemetryDdl(t: TelemetryTables, options: { rawIndexes?: boolean } = {}): string {
  const rollups = t.rollups.map(
    ({ table }) => `
    CREATE TABLE ${table} (
      tenant_id uuid NOT NULL,
      thing_id uuid NOT NULL,
      channel_id uuid NOT NULL,
      name text NOT NULL,
      bucket timestamptz NOT NULL,
      count bigint NOT NULL,
      sum double precision NOT NULL,
      min double precision NOT NULL,
      max double precision NOT NULL,
      first_time timestamptz NOT NULL,
      first_order bigint NOT NULL,
      first_value double precision NOT NULL,
      last_time timestamptz NOT NULL,
      last_order bigint NOT NULL,
      last_value double precision NOT NULL,
      PRIMARY KEY (thing_id, name, channel_id, bucket)
    );
    CREATE INDEX ${table}_channel ON ${table} (channel_id, name, bucket);`,
  );
  return `
    CREATE TABLE ${t.raw} (
      tenant_id uuid NOT NULL,
      channel_id uuid NOT NULL,
      thing_id uuid NOT NULL,
      subtopic text NOT NULL,
      name text NOT NULL,
      ${POINT_COLUMNS}
    ) PARTITION BY RANGE (time);
    ${options.rawIndexes === false ? '' : rawIndexDdl(t).join(';\n')};
    CREATE TABLE ${t.latest} (
      tenant_id uuid NOT NULL,
      thing_id uuid NOT NULL,
      name text NOT NULL,
      channel_id uuid NOT NULL,
      subtopic text NOT NULL,
      ${POINT_COLUMNS},
      PRIMARY KEY (thing_id, name)
    );
    ${rollups.join('\n')}`;
}

/** The raw table's indexes: a bulk load creates them after the rows are in, which is faster. */
export function rawIndexDdl(t: TelemetryTables): string[] {
  return [
    `CREATE INDEX ${t.prefix}_thing ON ${t.raw} (thing_id, name, time)`,
    `CREATE INDEX ${t.prefix}_channel ON ${t.raw} (channel_id, name, time)`,
  ];
}
