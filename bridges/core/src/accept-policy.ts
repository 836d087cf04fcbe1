import { envDuration, envInteger } from '@telly/runtime';
import { type AcceptPolicy, DEFAULT_ACCEPT_POLICY } from '@telly/schemas';

/**
 * The deployment's accepted record times, read once by each device bridge's config (the rule
 * itself is `checkAccepted` of `@telly/schemas`, which the projections share):
 *
 * - `TELLY_ACCEPT_PAST`: how long before receipt a record's time may be (`"365d"`); unset,
 *   any time back to 1970-01-01 is accepted (real backfill);
 * - `TELLY_ACCEPT_FUTURE`: how long after receipt. @default "1d"
 * - `TELLY_ACCEPT_MONTHS`: most calendar months one message's times may span, each possibly
 *   a new Postgres partition. @default 2
 */
export function parseAcceptPolicy(env: NodeJS.ProcessEnv): AcceptPolicy {
  return {
    pastMs: envDuration(env, 'TELLY_ACCEPT_PAST', DEFAULT_ACCEPT_POLICY.pastMs, { min: 1_000 }),
    futureMs: envDuration(env, 'TELLY_ACCEPT_FUTURE', DEFAULT_ACCEPT_POLICY.futureMs),
    maxMonths: envInteger(env, 'TELLY_ACCEPT_MONTHS', DEFAULT_ACCEPT_POLICY.maxMonths, { max: 1_200 }),
  };
}
