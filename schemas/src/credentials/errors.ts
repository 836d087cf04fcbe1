/** Stable codes of {@link CredentialError}. */
export type CredentialErrorCode = 'INVALID_KEY_HASH' | 'INVALID_CREDENTIAL';

/** A key hash or a `credentials` bucket entry that is not in the shape the registry writes. */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
  readonly code: CredentialErrorCode;

  constructor(code: CredentialErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export function isCredentialError(err: unknown, code?: CredentialErrorCode): err is CredentialError {
  return err instanceof CredentialError && (code === undefined || err.code === code);
}
