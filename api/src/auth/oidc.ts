import { isTellyId } from '@telly/schemas';
import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';
import { v5 } from 'uuid';
import { OidcConfigError } from './oidc-config-error.ts';
import { highestRole, isRole, ROLES, type Role } from './roles.ts';
import { TokenError, toTokenError } from './token-error.ts';

/** The environment variable holding the provider list. */
export const OIDC_PROVIDERS_ENV = 'TELLY_OIDC_PROVIDERS';

/** Where Keycloak puts realm roles in its access tokens. */
export const DEFAULT_OIDC_ROLES_CLAIM = 'realm_access.roles';
/** How long fetching a provider's JWKS may take. */
export const DEFAULT_OIDC_FETCH_TIMEOUT_MS = 5_000;
/** How long a fetched JWKS is used before it is fetched again (an unknown `kid` refetches sooner). */
export const DEFAULT_OIDC_JWKS_CACHE_MAX_AGE_MS = 600_000;
/** Clock skew allowed between the identity provider and Telly when checking `exp`/`nbf`. */
export const DEFAULT_OIDC_CLOCK_TOLERANCE_S = 30;

/** Signature algorithms accepted from identity providers (never `none` or HMAC). */
export const OIDC_ALGORITHMS: readonly string[] = Object.freeze(['RS256', 'ES256', 'EdDSA', 'PS256']);

/**
 * Namespace of the UUIDv5 user ids given to external identities: the user id of subject `sub` of
 * issuer `iss` is `v5(`${iss}#${sub}`, OIDC_USER_ID_NAMESPACE)`. Never change it: ids would move.
 */
export const OIDC_USER_ID_NAMESPACE = '17b5fea7-cd0b-49f9-a966-066e96f8cb75';

/** An external OpenID Connect identity provider (e.g. a Keycloak realm) whose tokens Telly accepts. */
export interface OidcProvider {
  /** The exact `iss` of its tokens, e.g. `https://sso.example.com/realms/acme` (no trailing-slash folding). */
  readonly issuer: string;
  /** Its JSON Web Key Set, e.g. `https://sso.example.com/realms/acme/protocol/openid-connect/certs`. */
  readonly jwksUrl: string;
  /** When set, the token's `aud` must contain it. */
  readonly audience?: string | undefined;
  /** The Telly tenant all of its users belong to (lowercase UUID). */
  readonly tenantId: string;
  /** Dot path to the array of external role names in the token. @default DEFAULT_OIDC_ROLES_CLAIM */
  readonly rolesClaim?: string | undefined;
  /** External role name → Telly role. */
  readonly roleMap: Readonly<Record<string, Role>>;
  /** The role of users with no mapped external role; without it such users are refused. */
  readonly defaultRole?: Role | undefined;
}

/** A verified external identity, as Telly sees it. */
export interface OidcIdentity {
  /** Stable Telly user id: UUIDv5 of `${issuer}#${subject}` (see {@link OIDC_USER_ID_NAMESPACE}). */
  readonly userId: string;
  readonly tenantId: string;
  /** The highest Telly role among the mapped external roles, else the provider's default role. */
  readonly role: Role;
  /** The token's `sub`. */
  readonly subject: string;
  /** The token's `iss`. */
  readonly issuer: string;
  /** The token's `email` claim, when it has one (check `emailVerified` before trusting it). */
  readonly email?: string | undefined;
  /** True only when the token says `email_verified: true`. */
  readonly emailVerified: boolean;
  readonly expiresAt: Date;
}

/** Options of {@link createOidcVerifier}. */
export interface OidcVerifierOptions {
  /** Timeout of one JWKS fetch in ms. @default DEFAULT_OIDC_FETCH_TIMEOUT_MS */
  readonly fetchTimeoutMs?: number | undefined;
  /** Maximum age of a cached JWKS in ms. @default DEFAULT_OIDC_JWKS_CACHE_MAX_AGE_MS */
  readonly cacheMaxAgeMs?: number | undefined;
  /** Allowed clock skew in seconds. @default DEFAULT_OIDC_CLOCK_TOLERANCE_S */
  readonly clockToleranceSeconds?: number | undefined;
}

/** Checks bearer tokens of the configured external identity providers. */
export interface OidcVerifier {
  /** True when the token's (unverified) `iss` is a configured provider: route it to {@link verify}. */
  matches(token: string): boolean;
  /**
   * Verifies the token against its provider's JWKS (signature, algorithm, issuer, audience, expiry)
   * and maps it to a Telly identity.
   * @throws TokenError `TOKEN_EXPIRED` when expired, `TOKEN_INVALID` otherwise (unknown issuer, bad
   * signature, no Telly role, JWKS unreachable, …), with the jose error as `cause`.
   */
  verify(token: string): Promise<OidcIdentity>;
}

const PROVIDER_FIELDS = new Set([
  'issuer',
  'jwksUrl',
  'audience',
  'tenantId',
  'rolesClaim',
  'roleMap',
  'defaultRole',
]);

/**
 * Parses `TELLY_OIDC_PROVIDERS`: a JSON array of providers (see {@link OidcProvider}). Unset or
 * blank means none. Fills in `rolesClaim`, lowercases `tenantId`.
 * @throws OidcConfigError naming the first bad field (unknown fields and duplicate issuers included).
 */
export function parseOidcProviders(json: string | undefined): OidcProvider[] {
  if (json === undefined || json.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new OidcConfigError(OIDC_PROVIDERS_ENV, 'is not valid JSON', { cause: err });
  }
  if (!Array.isArray(raw)) throw new OidcConfigError(OIDC_PROVIDERS_ENV, 'must be a JSON array of providers');
  const providers = raw.map((entry: unknown, i) => parseProvider(entry, `${OIDC_PROVIDERS_ENV}[${i}]`));
  assertDistinctIssuers(providers, (i) => `${OIDC_PROVIDERS_ENV}[${i}].issuer`);
  return providers;
}

/**
 * A verifier for `providers`. Each provider's JWKS is fetched lazily on first use, cached, and
 * refetched when a token names an unknown `kid` (key rotation).
 * @throws OidcConfigError when two providers share an issuer or a JWKS URL is not a URL.
 */
export function createOidcVerifier(
  providers: readonly OidcProvider[],
  options: OidcVerifierOptions = {},
): OidcVerifier {
  assertDistinctIssuers(providers, (i) => `providers[${i}].issuer`);
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_OIDC_CLOCK_TOLERANCE_S;
  const byIssuer = new Map(
    providers.map((provider, i) => {
      const jwks = createRemoteJWKSet(parseUrl(provider.jwksUrl, `providers[${i}].jwksUrl`), {
        timeoutDuration: options.fetchTimeoutMs ?? DEFAULT_OIDC_FETCH_TIMEOUT_MS,
        cacheMaxAge: options.cacheMaxAgeMs ?? DEFAULT_OIDC_JWKS_CACHE_MAX_AGE_MS,
      });
      return [provider.issuer, { provider, jwks }] as const;
    }),
  );

  function unverifiedIssuer(token: string): unknown {
    try {
      return decodeJwt(token).iss;
    } catch {
      return undefined;
    }
  }

  return {
    matches(token) {
      const iss = unverifiedIssuer(token);
      return typeof iss === 'string' && byIssuer.has(iss);
    },

    async verify(token) {
      const iss = unverifiedIssuer(token);
      const entry = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
      if (entry === undefined) {
        throw new TokenError('TOKEN_INVALID', 'token is not from a configured identity provider');
      }
      const { provider, jwks } = entry;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: provider.issuer,
          audience: provider.audience,
          algorithms: [...OIDC_ALGORITHMS],
          clockTolerance,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (err) {
        throw toTokenError(err, `token from ${provider.issuer}`);
      }
      const { sub, exp, email } = payload;
      if (typeof sub !== 'string' || sub === '') {
        throw new TokenError('TOKEN_INVALID', `token from ${provider.issuer} has no subject`);
      }
      // Keycloak marks its token kinds; an ID token must not pass for an access token.
      if (typeof payload.typ === 'string' && payload.typ.toLowerCase() !== 'bearer') {
        throw new TokenError('TOKEN_INVALID', `token from ${provider.issuer} is not an access token`);
      }
      const role = roleOf(payload, provider);
      if (role === undefined) {
        throw new TokenError('TOKEN_INVALID', `no Telly role for this identity (${provider.issuer} ${sub})`);
      }
      return {
        userId: v5(`${provider.issuer}#${sub}`, OIDC_USER_ID_NAMESPACE),
        tenantId: provider.tenantId,
        role,
        subject: sub,
        issuer: provider.issuer,
        email: typeof email === 'string' ? email : undefined,
        emailVerified: payload.email_verified === true,
        expiresAt: new Date((exp as number) * 1000),
      };
    },
  };
}

function roleOf(payload: JWTPayload, provider: OidcProvider): Role | undefined {
  let value: unknown = payload;
  for (const segment of (provider.rolesClaim ?? DEFAULT_OIDC_ROLES_CLAIM).split('.')) {
    value =
      typeof value === 'object' && value !== null && Object.hasOwn(value, segment)
        ? (value as Record<string, unknown>)[segment]
        : undefined;
  }
  const external = Array.isArray(value) ? value : [];
  const mapped: Role[] = [];
  for (const name of external) {
    if (typeof name === 'string' && Object.hasOwn(provider.roleMap, name)) {
      const role = provider.roleMap[name];
      if (isRole(role)) mapped.push(role);
    }
  }
  return highestRole(mapped) ?? provider.defaultRole;
}

function parseProvider(entry: unknown, at: string): OidcProvider {
  if (!isPlainObject(entry)) throw new OidcConfigError(at, 'must be an object');
  for (const key of Object.keys(entry)) {
    if (!PROVIDER_FIELDS.has(key)) {
      throw new OidcConfigError(
        `${at}.${key}`,
        `unknown field (expected ${[...PROVIDER_FIELDS].join(', ')})`,
      );
    }
  }
  const issuer = requiredString(entry.issuer, `${at}.issuer`);
  const jwksUrl = requiredString(entry.jwksUrl, `${at}.jwksUrl`);
  parseUrl(jwksUrl, `${at}.jwksUrl`);
  const audience =
    entry.audience === undefined ? undefined : requiredString(entry.audience, `${at}.audience`);
  const tenantId = requiredString(entry.tenantId, `${at}.tenantId`).toLowerCase();
  if (!isTellyId(tenantId)) {
    throw new OidcConfigError(`${at}.tenantId`, `must be a UUID, got ${JSON.stringify(entry.tenantId)}`);
  }
  let rolesClaim = DEFAULT_OIDC_ROLES_CLAIM;
  if (entry.rolesClaim !== undefined) {
    rolesClaim = requiredString(entry.rolesClaim, `${at}.rolesClaim`);
    if (rolesClaim.split('.').some((segment) => segment === '')) {
      throw new OidcConfigError(
        `${at}.rolesClaim`,
        `must be a dot path like "realm_access.roles", got "${rolesClaim}"`,
      );
    }
  }
  if (!isPlainObject(entry.roleMap)) {
    throw new OidcConfigError(
      `${at}.roleMap`,
      'must be an object mapping external role names to Telly roles',
    );
  }
  const roleMap: Record<string, Role> = {};
  for (const [name, role] of Object.entries(entry.roleMap)) {
    roleMap[name] = tellyRole(role, `${at}.roleMap[${JSON.stringify(name)}]`);
  }
  const defaultRole =
    entry.defaultRole === undefined ? undefined : tellyRole(entry.defaultRole, `${at}.defaultRole`);
  return { issuer, jwksUrl, audience, tenantId, rolesClaim, roleMap, defaultRole };
}

function assertDistinctIssuers(providers: readonly OidcProvider[], field: (index: number) => string): void {
  const seen = new Set<string>();
  providers.forEach((provider, i) => {
    if (seen.has(provider.issuer)) {
      throw new OidcConfigError(field(i), `issuer ${JSON.stringify(provider.issuer)} is configured twice`);
    }
    seen.add(provider.issuer);
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.trim() !== value) {
    throw new OidcConfigError(
      field,
      `must be a non-empty string without surrounding spaces, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function tellyRole(value: unknown, field: string): Role {
  if (!isRole(value)) {
    throw new OidcConfigError(field, `must be one of ${ROLES.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseUrl(value: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (err) {
    throw new OidcConfigError(field, `must be an http(s) URL, got ${JSON.stringify(value)}`, { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OidcConfigError(field, `must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return url;
}
