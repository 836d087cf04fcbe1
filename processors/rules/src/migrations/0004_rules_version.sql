-- One row, bumped by every commit of the rules projection: the evaluator's rule cache asks it
-- (one primary-key read per batch) whether the rules changed, instead of scanning `rules`.
CREATE TABLE rules_version (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  version bigint NOT NULL
);
INSERT INTO rules_version (version) VALUES (0);

-- The evaluator's lock, then what it decides with: the checkpoint it left and the rules'
-- version. A function, because a statement sees what was committed before it began: read in
-- the statement that waited for the lock, they could miss the commit of the instance that held it.
CREATE FUNCTION telly_rules_evaluator_lock(lock_key text, evaluator text)
RETURNS TABLE (last_seq bigint, rules_version bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(lock_key, 0));
  RETURN QUERY SELECT
    (SELECT c.last_seq FROM telly_checkpoints c WHERE c.processor = evaluator),
    (SELECT v.version FROM rules_version v);
END
$$;
