// The simulator's failures, each with a stable code.

/** The platform answered a send with something other than an acknowledgement. */
export class SendRefusedError extends Error {
  readonly code = 'SEND_REFUSED';
  readonly status: number;

  constructor(status: number, detail: string, options?: ErrorOptions) {
    super(`refused with ${status}: ${detail}`, options);
    this.status = status;
  }
}

/** A GraphQL call made to provision the fleet failed; `codes` are the errors' `extensions.code`. */
export class ProvisionError extends Error {
  readonly code = 'PROVISION_FAILED';
  readonly codes: readonly string[];

  constructor(message: string, codes: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.codes = codes;
  }
}

/** Bad command-line arguments; the message names the option. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

export const isProvisionError = (err: unknown): err is ProvisionError => err instanceof ProvisionError;
export const isUsageError = (err: unknown): err is UsageError => err instanceof UsageError;
