import type pg from 'pg';
import { ApiError } from '../errors.ts';

/** Failures before an account is locked. @default 5 */
export const DEFAULT_FREE_ATTEMPTS = 5;
/** First lock; each further failure doubles it up to {@link MAX_LOCK_MS}. @default 30 s */
export const DEFAULT_LOCK_MS = 30_000;
export const MAX_LOCK_MS = 15 * 60_000;
/** Failures older than this are forgotten. @default 1 hour */
export const FAILURE_WINDOW_MS = 3_600_000;

/**
 * Brute-force protection on login, per account and shared by every API instance (Postgres):
 * after {@link DEFAULT_FREE_ATTEMPTS} failures the email is locked with exponential backoff, and
 * a locked account is refused before its password is even checked.
 */
export class LoginThrottle {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Throws TOO_MANY_ATTEMPTS (with `retryAfter` seconds) while the email is locked. */
  async check(email: string): Promise<void> {
    const { rows } = await this.#pool.query<{ wait_ms: string }>(
      `SELECT EXTRACT(EPOCH FROM (locked_until - now())) * 1000 AS wait_ms FROM auth_login_failures
       WHERE email = $1 AND locked_until > now()`,
      [email],
    );
    const waitMs = Number(rows[0]?.wait_ms ?? 0);
    if (waitMs > 0) {
      const retryAfter = Math.ceil(waitMs / 1000);
      throw new ApiError('TOO_MANY_ATTEMPTS', `too many failed logins: try again in ${retryAfter} s`, {
        retryAfter,
      });
    }
  }

  async failed(email: string): Promise<void> {
    await this.#pool.query(
      `INSERT INTO auth_login_failures AS f (email, failures, last_failure_at) VALUES ($1, 1, now())
       ON CONFLICT (email) DO UPDATE SET
         failures = CASE WHEN f.last_failure_at < now() - make_interval(secs => $2) THEN 1 ELSE f.failures + 1 END,
         last_failure_at = now(),
         locked_until = CASE
           WHEN f.last_failure_at >= now() - make_interval(secs => $2) AND f.failures + 1 >= $3
           THEN now() + make_interval(secs => LEAST($5, $4 * power(2, f.failures + 1 - $3)))
           ELSE f.locked_until END`,
      [email, FAILURE_WINDOW_MS / 1000, DEFAULT_FREE_ATTEMPTS, DEFAULT_LOCK_MS / 1000, MAX_LOCK_MS / 1000],
    );
  }

  async succeeded(email: string): Promise<void> {
    await this.#pool.query('DELETE FROM auth_login_failures WHERE email = $1', [email]);
  }
}
