import { RegistryQueries } from '@telly/registry';
import type pg from 'pg';
import { issueAccessToken } from '../auth/access-token.ts';
import type { Authenticator } from '../auth/authenticate.ts';
import type { LoginThrottle } from '../auth/login-throttle.ts';
import { verifyAgainstDummy, verifyPassword } from '../auth/password.ts';
import { isRole } from '../auth/roles.ts';
import { parseRefreshToken } from '../auth/secrets.ts';
import type { Session, Sessions } from '../auth/sessions.ts';
import type { SigningKey } from '../auth/signing-key.ts';
import { ApiError } from '../errors.ts';
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
  throttle: LoginThrottle;
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

  async signup(input: { email: string; password: string; tenantName: string }): Promise<AuthResult> {
    const { userId, tenantId } = await this.#o.registry.signup(input);
    return this.#issue(await this.#o.sessions.start(userId, tenantId));
  }

  async login(input: { email: string; password: string }): Promise<AuthResult> {
    const email = input.email.trim().toLowerCase();
    await this.#o.throttle.check(email);
    const user = await this.#queries.userByEmail(email);
    // the same work whether or not the account exists, so timing does not reveal it
    const ok = user
      ? await verifyPassword(input.password, user.password_hash)
      : await verifyAgainstDummy(input.password);
    if (!user || !ok) {
      await this.#o.throttle.failed(email);
      throw new ApiError('INVALID_CREDENTIALS', 'wrong email or password');
    }
    await this.#o.throttle.succeeded(email);
    return this.#issue(await this.#o.sessions.start(user.id, user.tenant_id));
  }

  async refresh(refreshToken: string): Promise<AuthResult> {
    return this.#issue(await this.#o.sessions.rotate(refreshToken));
  }

  async logout(refreshToken: string): Promise<boolean> {
    const revoked = await this.#o.sessions.revoke(refreshToken);
    const familyId = parseRefreshToken(refreshToken)?.familyId;
    if (familyId) this.#o.authenticator.forgetSession(familyId);
    return revoked;
  }

  /** After a password change, every other login of the user ends. */
  async endOtherSessions(userId: string, currentSessionId: string | undefined): Promise<void> {
    await this.#o.sessions.revokeUser(userId, 'password-changed', currentSessionId);
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
