import { createHash } from 'node:crypto';
import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../errors.ts';

/** Where the counters of every limiter live (migrations/0002_auth_throttles.sql). */
const TABLE = 'auth_throttles';

/** One counter: `points` attempts per `durationS`, then refused for `blockS` (or the window's rest). */
export interface Limit {
  points: number;
  durationS: number;
  /** @default 0: refused only until the window ends */
  blockS?: number;
}

/**
 * The three counters of an attempt at a guessable secret (a password, a bootstrap key):
 * - `perAddress`: attempts from one source address, at any subject (guessing across accounts);
 * - `perSubjectAddress`: attempts at one subject from one address (guessing one account), the
 *   strict one: it blocks that address, and only that address, for a while;
 * - `perSubject`: attempts at one subject from every address (distributed guessing): higher, in
 *   a short window and without a block, and it refuses only addresses that already tried this
 *   subject in their window, so the legitimate user on a clean address still gets in while an
 *   attacker keeps the subject's counter full.
 */
export interface ThrottleLimits {
  perAddress: Limit;
  perSubjectAddress: Limit;
  perSubject: Limit;
}

/** Password guessing at login. */
export const LOGIN_LIMITS: ThrottleLimits = {
  perAddress: { points: 30, durationS: 15 * 60, blockS: 15 * 60 },
  perSubjectAddress: { points: 5, durationS: 15 * 60, blockS: 15 * 60 },
  perSubject: { points: 20, durationS: 60 },
};

/** Account creation: every signup counts (each costs a password hash and a tenant). */
export const SIGNUP_LIMITS: ThrottleLimits = {
  perAddress: { points: 10, durationS: 60 * 60 },
  perSubjectAddress: { points: 3, durationS: 60 * 60 },
  perSubject: { points: 5, durationS: 60 * 60 },
};

/** External-key guessing at GET /things/bootstrap/{externalId}. */
export const BOOTSTRAP_LIMITS: ThrottleLimits = {
  perAddress: { points: 30, durationS: 10 * 60, blockS: 10 * 60 },
  perSubjectAddress: { points: 5, durationS: 10 * 60, blockS: 10 * 60 },
  perSubject: { points: 20, durationS: 60 },
};

/** An attempt let through: call `succeeded` when the secret was right, so it does not count. */
export interface Attempt {
  succeeded(): Promise<void>;
}

/**
 * Rate limits on one kind of attempt (`name`: login, signup, bootstrap), counted in Postgres with
 * rate-limiter-flexible so that every API instance shares them. Each attempt is counted before
 * the secret is checked (parallel guesses cannot all slip through), and given back when it
 * succeeds. Subjects (emails, external ids) are stored only as hashes.
 */
export class Throttle {
  readonly #name: string;
  readonly #perAddress: RateLimiterPostgres;
  readonly #perSubjectAddress: RateLimiterPostgres;
  readonly #perSubject: RateLimiterPostgres;

  constructor(pool: pg.Pool, name: string, limits: ThrottleLimits) {
    this.#name = name;
    const limiter = (kind: string, limit: Limit) =>
      new RateLimiterPostgres({
        storeClient: pool,
        storeType: 'pool',
        tableName: TABLE,
        tableCreated: true,
        keyPrefix: `${name}-${kind}`,
        points: limit.points,
        duration: limit.durationS,
        blockDuration: limit.blockS ?? 0,
        // one limiter per throttle sweeps the shared table of expired counters (every 5 min)
        clearExpiredByTimeout: kind === 'addr',
      });
    this.#perAddress = limiter('addr', limits.perAddress);
    this.#perSubjectAddress = limiter('subj-addr', limits.perSubjectAddress);
    this.#perSubject = limiter('subj', limits.perSubject);
  }

  /**
   * Counts an attempt at `subject` from `address`, or refuses it with TOO_MANY_ATTEMPTS (with
   * `retryAfter` seconds) before any secret is checked.
   */
  async attempt(subject: string, address: string): Promise<Attempt> {
    const s = hashed(subject);
    const sa = hashed(`${subject}\n${address}`);
    await this.#consume(this.#perAddress, address, 'this address');
    const pair = await this.#consume(this.#perSubjectAddress, sa, 'this account from this address');
    try {
      await this.#perSubject.consume(s);
    } catch (err) {
      // a full subject counter refuses only addresses that tried this subject before
      if (!(err instanceof RateLimiterRes)) throw err;
      if (pair.consumedPoints > 1) throw tooMany(this.#name, 'this account', err);
    }
    return {
      // given back right after being counted, so the counters do not go below zero
      succeeded: async () => {
        await Promise.all([
          this.#perAddress.reward(address, 1),
          this.#perSubjectAddress.delete(sa),
          this.#perSubject.reward(s, 1),
        ]);
      },
    };
  }

  async #consume(limiter: RateLimiterPostgres, key: string, what: string): Promise<RateLimiterRes> {
    try {
      return await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooMany(this.#name, what, err);
      throw err;
    }
  }
}

function tooMany(name: string, what: string, res: RateLimiterRes): ApiError {
  const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new ApiError(
    'TOO_MANY_ATTEMPTS',
    `too many ${name} attempts for ${what}: try again in ${retryAfter} s`,
    {
      retryAfter,
    },
  );
}

const hashed = (text: string) => createHash('sha256').update(text).digest('base64url');
