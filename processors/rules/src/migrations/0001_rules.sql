-- Rules (a projection of reg.<tenant>.rule.<id>), the evaluator's state and durable timers,
-- the alert outbox, the alerts read model (a projection of evt.<tenant>.alert.<thing>) and
-- the work queue of alert actions.
CREATE TABLE rules (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  thing_id uuid,
  channel_id uuid,
  measurement text NOT NULL,
  definition jsonb NOT NULL,
  enabled boolean NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  seq bigint NOT NULL
);
CREATE INDEX rules_tenant ON rules (tenant_id, id);
CREATE INDEX rules_seq ON rules (seq);

-- per (rule, thing, measurement): what the evaluator keeps between readings
CREATE TABLE rule_series (
  rule_id uuid NOT NULL,
  thing_id uuid NOT NULL,
  name text NOT NULL,
  tenant_id uuid NOT NULL,
  state jsonb NOT NULL,
  PRIMARY KEY (rule_id, thing_id, name)
);

-- durable timers: a `for` duration running, or a thing's silence (no_data); due in event time
CREATE TABLE rule_timers (
  rule_id uuid NOT NULL,
  thing_id uuid NOT NULL,
  name text NOT NULL,
  due_at timestamptz NOT NULL,
  PRIMARY KEY (rule_id, thing_id, name)
);
CREATE INDEX rule_timers_due ON rule_timers (due_at);

-- alert events decided but maybe not yet in EVENTS: written with the decision, deleted once acked
CREATE TABLE rule_outbox (
  id bigserial PRIMARY KEY,
  event jsonb NOT NULL
);

CREATE TABLE alerts (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  rule_id uuid NOT NULL,
  thing_id uuid NOT NULL,
  channel_id uuid NOT NULL,
  measurement text NOT NULL,
  severity text NOT NULL,
  status text NOT NULL,
  value jsonb,
  threshold jsonb,
  message text NOT NULL,
  raised_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  note text,
  resolved_at timestamptz,
  cleared_at timestamptz,
  seq bigint NOT NULL
);
CREATE INDEX alerts_tenant ON alerts (tenant_id, id);
CREATE INDEX alerts_thing ON alerts (tenant_id, thing_id, id);

-- the actions of each alert transition: a durable work queue and what became of each
CREATE TABLE alert_actions (
  alert_id uuid NOT NULL,
  transition text NOT NULL,
  action int NOT NULL,
  tenant_id uuid NOT NULL,
  rule_id uuid NOT NULL,
  thing_id uuid NOT NULL,
  kind text NOT NULL,
  spec jsonb NOT NULL,
  status text NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  next_at timestamptz NOT NULL,
  last_error text,
  ref text,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (alert_id, transition, action)
);
CREATE INDEX alert_actions_due ON alert_actions (next_at) WHERE status IN ('pending', 'retrying');

-- webhook signing secrets: kept out of the log (no event holds a secret)
CREATE TABLE rule_webhook_secrets (
  rule_id uuid NOT NULL,
  action int NOT NULL,
  secret text NOT NULL,
  PRIMARY KEY (rule_id, action)
);
