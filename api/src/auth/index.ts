export type {
  AccessTokenClaims,
  IssueAccessTokenOptions,
  IssuedAccessToken,
  VerificationKey,
  VerifiedAccessToken,
  VerifyAccessTokenOptions,
} from './access-token.ts';
export {
  ACCESS_TOKEN_TYPE,
  DEFAULT_ACCESS_TOKEN_TTL_S,
  issueAccessToken,
  verifyAccessToken,
} from './access-token.ts';
export type { OidcIdentity, OidcProvider, OidcVerifier, OidcVerifierOptions } from './oidc.ts';
export {
  createOidcVerifier,
  DEFAULT_OIDC_CLOCK_TOLERANCE_S,
  DEFAULT_OIDC_FETCH_TIMEOUT_MS,
  DEFAULT_OIDC_JWKS_CACHE_MAX_AGE_MS,
  DEFAULT_OIDC_ROLES_CLAIM,
  OIDC_ALGORITHMS,
  OIDC_PROVIDERS_ENV,
  OIDC_USER_ID_NAMESPACE,
  parseOidcProviders,
} from './oidc.ts';
export { isOidcConfigError, OidcConfigError } from './oidc-config-error.ts';
export type { Argon2Params, PasswordProblem, PasswordProblemCode } from './password.ts';
export {
  checkPasswordPolicy,
  DEFAULT_ARGON2_PARAMS,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_DISTINCT_CHARS,
  PASSWORD_MIN_LENGTH,
  passwordNeedsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from './password.ts';
export type { Role } from './roles.ts';
export { atLeast, highestRole, isRole, ROLE_RANK, ROLES } from './roles.ts';
export type { ParsedApiKey, ParsedRefreshToken } from './secrets.ts';
export {
  API_KEY_PREFIX,
  keyHash,
  newApiKey,
  newRefreshToken,
  newThingKey,
  parseApiKey,
  parseRefreshToken,
  safeEqual,
} from './secrets.ts';
export type { PublicJwk, PublicJwkEntry, SigningKey, SigningKeySource } from './signing-key.ts';
export { isSigningKeyError, jwks, loadSigningKey, SigningKeyError } from './signing-key.ts';
export type { TokenErrorCode } from './token-error.ts';
export { isTokenError, TokenError, toTokenError } from './token-error.ts';
