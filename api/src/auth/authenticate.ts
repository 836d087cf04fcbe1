import { RegistryQueries } from '@telly/registry';
import type pg from 'pg';
import { ApiError } from '../errors.ts';
import { verifyAccessToken } from './access-token.ts';
import type { OidcVerifier } from './oidc.ts';
import type { Principal } from './principal.ts';
import { isRole } from './roles.ts';
import { API_KEY_PREFIX, keyHash, parseApiKey } from './secrets.ts';
import type { Sessions } from './sessions.ts';
import type { SigningKey } from './signing-key.ts';

/** How long a session or API key lookup is trusted before it is checked again. @default 2000 */
export const DEFAULT_AUTH_CACHE_MS = 2_000;

export interface AuthenticatorOptions {
  pool: pg.Pool;
  sessions: Sessions;
  signingKey: SigningKey;
  issuer: string;
  audience: string;
  oidc?: OidcVerifier | undefined;
  cacheMs?: number;
}

/**
 * Turns `Authorization: Bearer <token>` into a {@link Principal}. Three kinds of token: Telly
 * access tokens (EdDSA JWTs whose session must still be live: logout and revocation take effect
 * at once with a revocation notice, and within {@link DEFAULT_AUTH_CACHE_MS} without), API keys (`tak_…`) and tokens of configured OIDC
 * providers. The role always comes from the current registry, never only from the token.
 */
export class Authenticator {
  readonly #o: AuthenticatorOptions;
  readonly #queries: RegistryQueries;
  readonly #cache = new Map<string, { until: number; principal: Principal | undefined }>();

  constructor(options: AuthenticatorOptions) {
    this.#o = options;
    this.#queries = new RegistryQueries(options.pool);
  }

  /** undefined for an anonymous request; throws UNAUTHENTICATED / TOKEN_EXPIRED for a bad token. */
  async authenticate(authorization: string | null | undefined): Promise<Principal | undefined> {
    if (!authorization) return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1])
      throw new ApiError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
    const token = match[1];
    if (token.startsWith(API_KEY_PREFIX))
      return this.#cached(`k:${keyHash(token)}`, () => this.#apiKey(token));
    if (this.#o.oidc?.matches(token)) {
      const identity = await this.#o.oidc.verify(token);
      return {
        kind: 'oidc',
        tenantId: identity.tenantId,
        role: identity.role,
        id: identity.userId,
        actor: identity.userId,
      };
    }
    const claims = await verifyAccessToken(token, this.#o.signingKey, {
      issuer: this.#o.issuer,
      audience: this.#o.audience,
    });
    const principal = await this.#cached(`s:${claims.sessionId}`, async () => {
      const session = await this.#o.sessions.active(claims.sessionId);
      if (!session || !isRole(session.role)) return undefined;
      return {
        kind: 'user',
        tenantId: session.tenantId,
        role: session.role,
        id: session.userId,
        actor: session.userId,
        sessionId: claims.sessionId,
      } satisfies Principal;
    });
    if (!principal || principal.id !== claims.userId) {
      throw new ApiError('UNAUTHENTICATED', 'the session of this token has ended: log in again');
    }
    return principal;
  }

  /** Forgets cached lookups for a session (e.g. right after logout in this process). */
  forgetSession(sessionId: string): void {
    this.#cache.delete(`s:${sessionId}`);
  }

  /** Forgets every cached lookup (on a revocation notice): the next request reads them again. */
  forgetAll(): void {
    this.#cache.clear();
  }

  async #apiKey(token: string): Promise<Principal | undefined> {
    const parsed = parseApiKey(token);
    if (!parsed) return undefined;
    const row = await this.#queries.activeApiKey(parsed.apikeyId, keyHash(token));
    if (!row || !isRole(row.role)) return undefined;
    return {
      kind: 'apikey',
      tenantId: row.tenant_id,
      role: row.role,
      id: parsed.apikeyId,
      actor: `apikey:${parsed.apikeyId}`,
    };
  }

  async #cached(key: string, load: () => Promise<Principal | undefined>): Promise<Principal | undefined> {
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) {
      if (!hit.principal) throw new ApiError('UNAUTHENTICATED', 'the token is not valid or has been revoked');
      return hit.principal;
    }
    const principal = await load();
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(key, { until: now + (this.#o.cacheMs ?? DEFAULT_AUTH_CACHE_MS), principal });
    if (!principal) throw new ApiError('UNAUTHENTICATED', 'the token is not valid or has been revoked');
    return principal;
  }
}
