-- Timed commands: a command sent later by a NATS message schedule (the revert of a timed
-- command). Statuses gain 'scheduled' (waiting in the schedule) and 'cancelled'.
ALTER TABLE commands
  ADD COLUMN revert_of uuid,
  ADD COLUMN scheduled_for timestamptz,
  ADD COLUMN schedule_seq bigint;
CREATE INDEX commands_revert_of ON commands (tenant_id, revert_of) WHERE revert_of IS NOT NULL;
