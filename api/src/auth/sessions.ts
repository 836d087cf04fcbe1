import { RegistryQueries } from '@telly/registry';
import { withTransaction } from '@telly/runtime';
import type pg from 'pg';
import { v7 } from 'uuid';
import { ApiError } from '../errors.ts';
import { keyHash, newRefreshToken, parseRefreshToken } from './secrets.ts';

/** How long a login lasts without activity: each refresh extends it. @default 30 days */
export const DEFAULT_REFRESH_TTL_MS = 30 * 24 * 3_600_000;

export interface Session {
  sessionId: string;
  userId: string;
  tenantId: string;
  refreshToken: string;
}

/**
 * Login sessions with rotating refresh tokens. Each refresh spends the token and issues the
 * next one of the same family; presenting a spent token again means it was stolen (or the
 * client is broken), so the whole family is revoked (OAuth 2.0 Security BCP §4.14).
 */
export class Sessions {
  readonly #pool: pg.Pool;
  readonly #ttlMs: number;
  readonly #users: RegistryQueries;

  constructor(pool: pg.Pool, ttlMs = DEFAULT_REFRESH_TTL_MS) {
    this.#pool = pool;
    this.#ttlMs = ttlMs;
    this.#users = new RegistryQueries(pool);
  }

  async start(userId: string, tenantId: string): Promise<Session> {
    const sessionId = v7();
    const refreshToken = newRefreshToken(sessionId);
    await withTransaction(this.#pool, async (client) => {
      await client.query(
        `INSERT INTO auth_sessions (id, user_id, tenant_id, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
        [sessionId, userId, tenantId, this.#ttlMs / 1000],
      );
      await client.query('INSERT INTO auth_refresh_tokens (token_hash, session_id) VALUES ($1, $2)', [
        keyHash(refreshToken),
        sessionId,
      ]);
    });
    return { sessionId, userId, tenantId, refreshToken };
  }

  /** Spends a refresh token and returns the session with the next one. */
  async rotate(refreshToken: string): Promise<Session> {
    const parsed = parseRefreshToken(refreshToken);
    if (!parsed) throw new ApiError('INVALID_REFRESH_TOKEN', 'the refresh token is malformed');
    // the reuse case must commit the revocation before it answers with an error
    const outcome = await withTransaction(this.#pool, async (client): Promise<Session | ApiError> => {
      const { rows: sessions } = await client.query<{ user_id: string; tenant_id: string; live: boolean }>(
        `SELECT user_id, tenant_id, (revoked_at IS NULL AND expires_at > now()) AS live
         FROM auth_sessions WHERE id = $1 FOR UPDATE`,
        [parsed.familyId],
      );
      const session = sessions[0];
      const { rows: tokens } = await client.query<{ used: boolean }>(
        'SELECT used_at IS NOT NULL AS used FROM auth_refresh_tokens WHERE token_hash = $1 AND session_id = $2',
        [keyHash(refreshToken), parsed.familyId],
      );
      const token = tokens[0];
      if (!session || !token) return new ApiError('INVALID_REFRESH_TOKEN', 'the refresh token is not valid');
      if (token.used) {
        await client.query(
          `UPDATE auth_sessions SET revoked_at = COALESCE(revoked_at, now()),
             revoked_reason = COALESCE(revoked_reason, 'refresh-token-reuse') WHERE id = $1`,
          [parsed.familyId],
        );
        return new ApiError(
          'REFRESH_TOKEN_REUSED',
          'this refresh token was already used: the session has been revoked, log in again',
        );
      }
      if (!session.live) return new ApiError('INVALID_REFRESH_TOKEN', 'the session has ended, log in again');
      const next = newRefreshToken(parsed.familyId);
      await client.query('UPDATE auth_refresh_tokens SET used_at = now() WHERE token_hash = $1', [
        keyHash(refreshToken),
      ]);
      await client.query('INSERT INTO auth_refresh_tokens (token_hash, session_id) VALUES ($1, $2)', [
        keyHash(next),
        parsed.familyId,
      ]);
      await client.query(
        'UPDATE auth_sessions SET expires_at = now() + make_interval(secs => $2) WHERE id = $1',
        [parsed.familyId, this.#ttlMs / 1000],
      );
      return {
        sessionId: parsed.familyId,
        userId: session.user_id,
        tenantId: session.tenant_id,
        refreshToken: next,
      };
    });
    if (outcome instanceof ApiError) throw outcome;
    return outcome;
  }

  /** Ends the session the refresh token belongs to: its tenant, or undefined when it was not a live session. */
  async revoke(refreshToken: string, reason = 'logout'): Promise<string | undefined> {
    const parsed = parseRefreshToken(refreshToken);
    if (!parsed) return undefined;
    const { rows } = await this.#pool.query<{ tenant_id: string }>(
      `UPDATE auth_sessions s SET revoked_at = now(), revoked_reason = $2
       WHERE s.id = $1 AND s.revoked_at IS NULL
         AND EXISTS (SELECT 1 FROM auth_refresh_tokens t WHERE t.session_id = s.id AND t.token_hash = $3)
       RETURNING s.tenant_id`,
      [parsed.familyId, reason, keyHash(refreshToken)],
    );
    return rows[0]?.tenant_id;
  }

  /** Ends every session of a user but `keep` (e.g. all others after a password change). */
  async revokeUser(userId: string, reason: string, keep?: string): Promise<void> {
    await this.#pool.query(
      `UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
       WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $3`,
      [userId, reason, keep ?? null],
    );
  }

  /** The tenant of a session, live or ended; undefined for none. */
  async tenantOf(sessionId: string): Promise<string | undefined> {
    const { rows } = await this.#pool.query<{ tenant_id: string }>(
      'SELECT tenant_id FROM auth_sessions WHERE id = $1',
      [sessionId],
    );
    return rows[0]?.tenant_id;
  }

  /** The live session's user and current role, or undefined when revoked, expired or the user is gone. */
  async active(sessionId: string): Promise<{ userId: string; tenantId: string; role: string } | undefined> {
    const { rows } = await this.#pool.query<{ user_id: string; tenant_id: string }>(
      `SELECT user_id, tenant_id FROM auth_sessions
       WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()`,
      [sessionId],
    );
    const session = rows[0];
    // the role from the registry's read model, which the registry owns
    const user = session && (await this.#users.user(session.tenant_id, session.user_id));
    return user && { userId: user.id, tenantId: user.tenant_id, role: user.role };
  }
}
