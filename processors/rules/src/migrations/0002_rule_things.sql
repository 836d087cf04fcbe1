-- Each thing's current metadata (a projection of reg.<tenant>.thing.<id>), for rules scoped by
-- thingMetadata. A deleted thing keeps its row with metadata NULL, so the evaluator's cache
-- follows every change by reading the rows past the highest seq it has seen.
CREATE TABLE rule_things (
  thing_id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  metadata jsonb,
  seq bigint NOT NULL
);
CREATE INDEX rule_things_seq ON rule_things (seq);
CREATE INDEX rule_things_tenant ON rule_things (tenant_id, thing_id);
