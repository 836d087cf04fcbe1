-- per (thing, measurement) that some rule watches: the newest reading evaluated (the event-time
-- watermark), its channel and value, shared by every rule over it; a rule's own row in
-- rule_series is written only when its own part of the state changes
CREATE TABLE rule_readings (
  thing_id uuid NOT NULL,
  name text NOT NULL,
  tenant_id uuid NOT NULL,
  last_time double precision NOT NULL,
  channel_id text,
  value jsonb,
  PRIMARY KEY (thing_id, name)
) WITH (fillfactor = 70);

-- rows updated in place as often as readings arrive: room on the page for heap-only updates
ALTER TABLE rule_series SET (fillfactor = 70);
ALTER TABLE rule_timers SET (fillfactor = 70);
