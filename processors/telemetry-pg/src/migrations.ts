import { type Migration, type MigrationSet, runMigrations } from '@telly/runtime';
import { sql } from 'kysely';
import type pg from 'pg';
import { LIVE_TABLES, type TelemetryTables } from './tables.ts';

/**
 * The telemetry read model: raw points (range-partitioned by month, partitions created as data
 * arrives), the latest value per thing and name, and 1-minute / 1-hour rollups that the
 * projection maintains as it writes. All of it is rebuilt by replaying MESSAGES.
 *
 * FIRST and LAST follow the order (time, seq, idx): time, then position in the log, then
 * position in the pack, so they are the same whatever order points arrive in.
 */
/**
 * The DDL of one set of telemetry tables (the live set, or a replay's fresh set beside it). A
 * change of shape goes here and into a migration that brings existing tables to it.
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
      unit text,
      time timestamptz NOT NULL,
      value double precision,
      string_value text,
      bool_value boolean,
      data_value text,
      sum double precision,
      seq bigint NOT NULL,
      idx integer NOT NULL
    ) PARTITION BY RANGE (time);
    ${options.rawIndexes === false ? '' : rawIndexDdl(t).join(';\n')};
    CREATE TABLE ${t.latest} (
      tenant_id uuid NOT NULL,
      thing_id uuid NOT NULL,
      name text NOT NULL,
      channel_id uuid NOT NULL,
      subtopic text NOT NULL,
      unit text,
      time timestamptz NOT NULL,
      value double precision,
      string_value text,
      bool_value boolean,
      data_value text,
      sum double precision,
      seq bigint NOT NULL,
      idx integer NOT NULL,
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

const MIGRATIONS: Record<string, Migration> = {
  '0001_telemetry': {
    async up(db) {
      await sql.raw(telemetryDdl(LIVE_TABLES)).execute(db);
    },
  },
};

/** Tables a rebuild empties (partitions go with `telemetry`). */
export const TELEMETRY_TABLES = [
  'telemetry',
  'telemetry_latest',
  'telemetry_rollup_1m',
  'telemetry_rollup_1h',
] as const;

/** This package's tables, for `telly migrate` and the component definition. */
export const telemetryMigrations: MigrationSet = { name: 'telemetry', migrations: MIGRATIONS };

export function migrateTelemetry(pool: pg.Pool): Promise<void> {
  return runMigrations(pool, telemetryMigrations);
}
