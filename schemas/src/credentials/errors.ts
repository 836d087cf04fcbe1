import { errorPredicate, TellyError } from '../errors.ts';

/** Stable codes of {@link CredentialError}. */
export type CredentialErrorCode = 'INVALID_KEY_HASH' | 'INVALID_CREDENTIAL';

/** A key hash or a `credentials` bucket entry that is not in the shape the registry writes. */
export class CredentialError extends TellyError<CredentialErrorCode> {}

/** True when `err` is a {@link CredentialError} (optionally with the given code). */
export const isCredentialError = errorPredicate(CredentialError);
