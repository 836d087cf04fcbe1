import { errorPredicate, TellyError } from '@telly/schemas';

export type RuleErrorCode = 'INVALID_RULE' | 'NOT_FOUND' | 'DELETED';

/** A rule refused (naming the field), or a rule command on a rule that is not there. */
export class RuleError extends TellyError<RuleErrorCode> {
  /** The input field that is wrong (`condition.value2`, `actions[1].email.to[0]`, …). */
  readonly field: string | undefined;

  constructor(code: RuleErrorCode, message: string, field?: string, options?: ErrorOptions) {
    super(code, message, options);
    this.field = field;
  }
}

export const isRuleError = errorPredicate(RuleError);

export const invalidRule = (field: string, message: string) =>
  new RuleError('INVALID_RULE', `${field} ${message}`, field);
