import { isTellyId, parseTellyId } from '@telly/schemas';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { v7 } from 'uuid';
import { isRole, type Role } from './roles.ts';
import type { SigningKey } from './signing-key.ts';
import { TokenError, toTokenError } from './token-error.ts';

/** Lifetime of an access token in seconds (15 minutes); refresh tokens outlive it. */
export const DEFAULT_ACCESS_TOKEN_TTL_S = 900;

/** JOSE `typ` header of Telly access tokens (RFC 9068), so no other JWT can pass for one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

const ALGORITHM = 'EdDSA';

/** Who an access token speaks for. All ids are lowercase UUIDs. */
export interface AccessTokenClaims {
  /** The user (`sub`). */
  readonly userId: string;
  /** The tenant the token is valid in (`tid`). */
  readonly tenantId: string;
  /** The user's role in that tenant (`role`). */
  readonly role: Role;
  /** The login session, i.e. the refresh-token family id (`sid`). */
  readonly sessionId: string;
}

/** Options of {@link issueAccessToken}. */
export interface IssueAccessTokenOptions {
  /** `iss` claim: this API's public URL. */
  readonly issuer: string;
  /** `aud` claim: who may accept the token. */
  readonly audience: string;
  /** Seconds until expiry. @default DEFAULT_ACCESS_TOKEN_TTL_S */
  readonly ttlSeconds?: number | undefined;
  /** The issue time. @default new Date() */
  readonly now?: Date | undefined;
}

/** A signed access token and when it stops being accepted. */
export interface IssuedAccessToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** Options of {@link verifyAccessToken}: what the token must say. */
export interface VerifyAccessTokenOptions {
  /** Required `iss`. */
  readonly issuer: string;
  /** Required `aud` (the token's `aud` must contain it). */
  readonly audience: string;
  /** The time to check expiry against. @default new Date() */
  readonly now?: Date | undefined;
}

/** What a valid access token says. */
export interface VerifiedAccessToken extends AccessTokenClaims {
  /** The token's own id (`jti`, a UUIDv7), for logs and deny lists. */
  readonly tokenId: string;
  readonly expiresAt: Date;
}

/** A key that can check signatures: any {@link SigningKey}, or just its kid and public key. */
export type VerificationKey = Pick<SigningKey, 'kid' | 'publicKey'>;

/**
 * Signs an access token with `key` (EdDSA, header `kid` and `typ: at+jwt`). Claims: `sub` user id,
 * `tid` tenant id, `role`, `sid` session id, `jti` a fresh UUIDv7, `iss`, `aud`, `iat`, `exp`.
 * @throws TypeError when a claim is malformed (ids must be lowercase UUIDs, role one of ROLES) or the TTL
 * is not a positive integer.
 */
export async function issueAccessToken(
  key: Pick<SigningKey, 'kid' | 'privateKey'>,
  claims: AccessTokenClaims,
  options: IssueAccessTokenOptions,
): Promise<IssuedAccessToken> {
  const { userId, tenantId, role, sessionId } = claims;
  for (const [name, value] of Object.entries({ userId, tenantId, sessionId })) parseTellyId(value, name);
  if (!isRole(role)) throw new TypeError(`role must be one of the Telly roles, got ${JSON.stringify(role)}`);
  const ttl = options.ttlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_S;
  if (!Number.isSafeInteger(ttl) || ttl <= 0)
    throw new TypeError(`ttlSeconds must be a positive integer, got ${ttl}`);
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const expiresAt = issuedAt + ttl;
  const token = await new SignJWT({ tid: tenantId, role, sid: sessionId })
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(userId)
    .setJti(v7())
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(key.privateKey);
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

/**
 * Checks an access token made by {@link issueAccessToken}: signature by one of `keys` (chosen by the
 * header `kid`, so a rotated-out key can still be listed), `alg` EdDSA, `typ`, issuer, audience,
 * expiry, and the shape of every Telly claim.
 * @throws TokenError `TOKEN_EXPIRED` for a genuine but expired token, `TOKEN_INVALID` for anything
 * else (the jose error, if any, is the `cause`).
 */
export async function verifyAccessToken(
  token: string,
  keys: VerificationKey | readonly VerificationKey[],
  options: VerifyAccessTokenOptions,
): Promise<VerifiedAccessToken> {
  const candidates: readonly VerificationKey[] = Array.isArray(keys) ? keys : [keys as VerificationKey];
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        const key = candidates.find((k) => k.kid === header.kid);
        if (key === undefined) throw new TokenError('TOKEN_INVALID', 'access token signed by an unknown key');
        return key.publicKey;
      },
      {
        algorithms: [ALGORITHM],
        typ: ACCESS_TOKEN_TYPE,
        issuer: options.issuer,
        audience: options.audience,
        currentDate: options.now,
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      },
    ));
  } catch (err) {
    throw toTokenError(err, 'access token');
  }
  const { sub, tid, role, sid, jti, exp } = payload;
  if (!isTellyId(sub)) throw invalidClaim('sub');
  if (!isTellyId(tid)) throw invalidClaim('tid');
  if (!isRole(role)) throw invalidClaim('role');
  if (!isTellyId(sid)) throw invalidClaim('sid');
  if (!isTellyId(jti)) throw invalidClaim('jti');
  if (typeof exp !== 'number') throw invalidClaim('exp');
  return { userId: sub, tenantId: tid, role, sessionId: sid, tokenId: jti, expiresAt: new Date(exp * 1000) };
}

function invalidClaim(claim: string): TokenError {
  return new TokenError('TOKEN_INVALID', `access token has a missing or malformed "${claim}" claim`);
}
