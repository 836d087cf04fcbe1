import { ConfigError } from '@telly/runtime';
import { errorPredicate } from '@telly/schemas';

/**
 * `TELLY_OIDC_PROVIDERS` (or a provider list built in code) is unusable; `field` says where. A
 * {@link ConfigError} like any other bad setting, with a code of its own.
 */
export class OidcConfigError extends ConfigError<'OIDC_CONFIG'> {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, { ...options, code: 'OIDC_CONFIG' });
  }

  /** The offending field, e.g. `TELLY_OIDC_PROVIDERS[1].tenantId`: the variable and the path in it. */
  get field(): string {
    return this.variable;
  }
}

/** True when `err` is an {@link OidcConfigError}. */
export const isOidcConfigError = errorPredicate(OidcConfigError);
