-- Attempt counters of login, signup and bootstrap, shared by every API instance
-- (rate-limiter-flexible's Postgres store: key = limiter prefix and subject, expire in ms since
-- the epoch). They replace the per-email lock of auth_login_failures.
CREATE TABLE auth_throttles (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
CREATE INDEX auth_throttles_expire ON auth_throttles (expire);
DROP TABLE auth_login_failures;
