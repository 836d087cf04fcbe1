import { errorPredicate, TellyError } from '@telly/schemas';

/** Bad command-line arguments of a `telly` command; the message names the option. */
export class UsageError extends TellyError<'USAGE'> {
  constructor(message: string, options?: ErrorOptions) {
    super('USAGE', message, options);
  }
}

/** True when `err` is a {@link UsageError}: the command prints its usage and exits 2. */
export const isUsageError = errorPredicate(UsageError);
