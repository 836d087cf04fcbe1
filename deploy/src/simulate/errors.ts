// The simulator's failures, each with a stable code.
import { errorPredicate, TellyError } from '@telly/schemas';

export { isUsageError, UsageError } from '../usage-error.ts';

/** The platform answered a send with something other than an acknowledgement. */
export class SendRefusedError extends TellyError<'SEND_REFUSED'> {
  readonly status: number;

  constructor(status: number, detail: string, options?: ErrorOptions) {
    super('SEND_REFUSED', `refused with ${status}: ${detail}`, options);
    this.status = status;
  }
}

/** A GraphQL call made to provision the fleet failed; `codes` are the errors' `extensions.code`. */
export class ProvisionError extends TellyError<'PROVISION_FAILED'> {
  readonly codes: readonly string[];

  constructor(message: string, codes: readonly string[] = [], options?: ErrorOptions) {
    super('PROVISION_FAILED', message, options);
    this.codes = codes;
  }
}

export const isProvisionError = errorPredicate(ProvisionError);
