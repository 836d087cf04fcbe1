-- Frozen: applied as is wherever it ran; change the tables in a new migration.
CREATE TABLE telemetry (
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
CREATE INDEX telemetry_thing ON telemetry (thing_id, name, time);
CREATE INDEX telemetry_channel ON telemetry (channel_id, name, time);
CREATE TABLE telemetry_latest (
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

CREATE TABLE telemetry_rollup_1m (
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
CREATE INDEX telemetry_rollup_1m_channel ON telemetry_rollup_1m (channel_id, name, bucket);

CREATE TABLE telemetry_rollup_1h (
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
CREATE INDEX telemetry_rollup_1h_channel ON telemetry_rollup_1h (channel_id, name, bucket);
