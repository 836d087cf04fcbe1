-- a thing's own rate limit (thing.rate-limit-set); both null: the deployment's
ALTER TABLE things ADD COLUMN rate_per_second double precision, ADD COLUMN rate_burst integer;
