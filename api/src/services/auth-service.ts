import { RegistryQueries } from '@telly/registry';
import type pg from 'pg';
import { issueAccessToken } from '../auth/access-token.ts';
import type { Authenticator } from '../auth/authenticate.ts';
import { verifyAgainstDummy, verifyPassword } from '../auth/password.ts';
import type { Principal } from '../auth/principal.ts';
import type { Revocations } from '../auth/revocations.ts';
import { isRole } from '../auth/roles.ts';
import { parseRefreshToken } from '../auth/secrets.ts';
import type { Session, Sessions } from '../auth/sessions.ts';
import type { SigningKey } from '../auth/signing-key.ts';
import type { Throttle } from '../auth/throttle.ts';
import { ApiError, isApiError } from '../errors.ts';
import type { RegistryService } from './registry-service.ts';

export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  userId: string;
}

export interface AuthServiceOptions {
  pool: pg.Pool;
  registry: RegistryService;
  sessions: Sessions;
  /** Login and signup attempts, per source address and per email (see auth/throttle.ts). */
  throttles: { login: Throttle; signup: Throttle };
  revocations: Revocations;
  authenticator: Authenticator;
  signingKey: SigningKey;
  issuer: string;
  audience: string;
}

/** signup, login, refresh and logout. */
export class AuthService {
  readonly #o: AuthServiceOptions;
  readonly #queries: RegistryQueries;

  constructor(options: AuthServiceOptions) {
    this.#o = options;
    this.#queries = new RegistryQueries(options.pool);
  }

  async signup(
    input: { email: string; password: string; tenantName: string },
    address: string,
  ): Promise<AuthResult> {
    // every signup counts, whether or not it succeeds: each costs a hash and creates a tenant
    await this.#o.throttles.signup.attempt(input.email.trim().toLowerCase(), address);
    const { userId, tenantId } = await this.#o.registry.signup(input);
    return this.#issue(await this.#o.sessions.start(userId, tenantId));
  }

  async login(input: { email: string; password: string }, address: string): Promise<AuthResult> {
    const email = input.email.trim().toLowerCase();
    const attempt = await this.#o.throttles.login.attempt(email, address);
    const user = await this.#queries.userByEmail(email);
    // the same work whether or not the account exists, so timing does not reveal it
    const ok = user
      ? await verifyPassword(input.password, user.password_hash)
      : await verifyAgainstDummy(input.password);
    if (!user || !ok) throw new ApiError('INVALID_CREDENTIALS', 'wrong email or password');
    await attempt.succeeded();
    return this.#issue(await this.#o.sessions.start(user.id, user.tenant_id));
  }

  /** A new pair; a refresh token presented twice ends its session on every API instance. */
  async refresh(refreshToken: string): Promise<AuthResult> {
    let session: Session;
    try {
      session = await this.#o.sessions.rotate(refreshToken);
    } catch (err) {
      const familyId = parseRefreshToken(refreshToken)?.familyId;
      const tenantId =
        isApiError(err, 'REFRESH_TOKEN_REUSED') && familyId
          ? await this.#o.sessions.tenantOf(familyId)
          : undefined;
      if (tenantId) await this.#o.revocations.announce(tenantId);
      throw err;
    }
    return this.#issue(session);
  }

  /** Ends the session; every API instance then refuses its access tokens and ends its subscriptions. */
  async logout(refreshToken: string): Promise<boolean> {
    const tenantId = await this.#o.sessions.revoke(refreshToken);
    const familyId = parseRefreshToken(refreshToken)?.familyId;
    if (familyId) this.#o.authenticator.forgetSession(familyId);
    if (tenantId) await this.#o.revocations.announce(tenantId);
    return tenantId !== undefined;
  }

  /**
   * Changes the caller's password, throttled like login (the current password is a secret a
   * stolen token could guess at); every other login of the user then ends.
   */
  async changePassword(
    p: Principal,
    currentPassword: string,
    newPassword: string,
    address: string,
  ): Promise<void> {
    const attempt = await this.#o.throttles.login.attempt(`user:${p.id}`, address);
    await this.#o.registry.changePassword(p, currentPassword, newPassword);
    await attempt.succeeded();
    await this.#o.sessions.revokeUser(p.id, 'password-changed', p.sessionId);
    await this.#o.revocations.announce(p.tenantId);
  }

  async #issue(session: Session): Promise<AuthResult> {
    const role = (await this.#queries.user(session.tenantId, session.userId))?.role;
    if (!isRole(role)) throw new ApiError('INVALID_REFRESH_TOKEN', 'the account no longer exists');
    const { token, expiresAt } = await issueAccessToken(
      this.#o.signingKey,
      { userId: session.userId, tenantId: session.tenantId, role, sessionId: session.sessionId },
      { issuer: this.#o.issuer, audience: this.#o.audience },
    );
    return {
      accessToken: token,
      accessTokenExpiresAt: expiresAt,
      refreshToken: session.refreshToken,
      userId: session.userId,
    };
  }
}
