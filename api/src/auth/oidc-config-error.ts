/** `TELLY_OIDC_PROVIDERS` (or a provider list built in code) is unusable; `field` says where. */
export class OidcConfigError extends Error {
  override readonly name = 'OidcConfigError';
  readonly code = 'OIDC_CONFIG';
  /** The offending field, e.g. `TELLY_OIDC_PROVIDERS[1].tenantId`. */
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/** True when `err` is an {@link OidcConfigError}. */
export function isOidcConfigError(err: unknown): err is OidcConfigError {
  return err instanceof OidcConfigError;
}
