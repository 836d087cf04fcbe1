-- What each thing looks like from the bridges: its latest session event, its latest message
-- and its latest refused publish (one row per thing, created by whichever comes first).
CREATE TABLE device_status (
  tenant_id uuid NOT NULL,
  thing_id uuid NOT NULL,
  online boolean NOT NULL DEFAULT false,
  protocol text,
  remote_address text,
  offline_reason text,
  -- the latest thing.online / thing.offline: its time, and its EVENTS sequence to break ties
  presence_at timestamptz,
  presence_seq bigint,
  last_message_at timestamptz,
  last_rejected_at timestamptz,
  PRIMARY KEY (tenant_id, thing_id)
);

-- Recent refused publishes (message.rejected), kept bounded per thing and in time. The id is
-- the event's (a UUIDv7: id order is time order).
CREATE TABLE device_rejections (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  thing_id uuid,
  channel_id uuid,
  at timestamptz NOT NULL,
  protocol text NOT NULL,
  reason text NOT NULL,
  detail text NOT NULL
);
CREATE INDEX device_rejections_tenant ON device_rejections (tenant_id, id);
CREATE INDEX device_rejections_thing ON device_rejections (tenant_id, thing_id, id);
CREATE INDEX device_rejections_at ON device_rejections (at);
