import { errorPredicate, TellyError } from '@telly/schemas';
import { errors } from 'jose';

/** Stable codes of {@link TokenError}; callers branch on these, never on the message. */
export type TokenErrorCode =
  /** The token was genuine but its `exp` has passed: the client should refresh and retry. */
  | 'TOKEN_EXPIRED'
  /** Anything else: bad signature, wrong issuer/audience/algorithm, malformed or missing claims. */
  | 'TOKEN_INVALID';

/** A bearer token (Telly access token or external OIDC token) that must not be accepted. */
export class TokenError extends TellyError<TokenErrorCode> {}

/** True when `err` is a {@link TokenError} (optionally with the given code). */
export const isTokenError = errorPredicate(TokenError);

/**
 * Maps what jose (or a key lookup) threw while verifying into a {@link TokenError}, keeping it as the
 * `cause`: `TOKEN_EXPIRED` for an expired (but otherwise valid) token, `TOKEN_INVALID` for the rest.
 * @param what names the token in the message, e.g. `access token`.
 */
export function toTokenError(err: unknown, what: string): TokenError {
  if (isTokenError(err)) return err;
  if (err instanceof errors.JWTExpired)
    return new TokenError('TOKEN_EXPIRED', `${what} has expired`, { cause: err });
  const reason = err instanceof Error ? err.message : String(err);
  return new TokenError('TOKEN_INVALID', `${what} is not valid: ${reason}`, { cause: err });
}
