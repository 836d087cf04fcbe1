import { errorPredicate, TellyError } from '../errors.ts';
import type { UnstorableCode } from './accept.ts';

/** Stable codes of {@link SenmlError}; clients and HTTP problem documents rely on them. */
export type SenmlErrorCode =
  | 'SENML_BAD_JSON'
  | 'SENML_BAD_CBOR'
  | 'SENML_TOO_LARGE'
  | 'SENML_NOT_ARRAY'
  | 'SENML_EMPTY'
  | 'SENML_NOT_OBJECT'
  | 'SENML_BAD_TYPE'
  | 'SENML_NOT_FINITE'
  | 'SENML_MUST_UNDERSTAND'
  | 'SENML_DUPLICATE_FIELD'
  | 'SENML_UNSUPPORTED_VERSION'
  | 'SENML_VERSION_MISMATCH'
  | 'SENML_INVALID_NAME'
  | 'SENML_NO_VALUE'
  | 'SENML_MULTIPLE_VALUES'
  | 'SENML_BAD_TIME'
  | 'SENML_UNSUPPORTED_CONTENT_TYPE'
  | UnstorableCode;

/** Where a {@link SenmlError} happened, when it is about one record or one field. */
export interface SenmlErrorOptions extends ErrorOptions {
  /** Zero-based index of the offending record in the pack. */
  index?: number;
  /** The SenML label (`v`, `bn`, …) or, for plain JSON, the key path at fault. */
  field?: string;
}

/**
 * The one error a SenML body can cause: a malformed body, a broken RFC 8428 rule or a limit.
 * The message starts with `record <index>: ` when one record is at fault and names the rule.
 */
export class SenmlError extends TellyError<SenmlErrorCode> {
  readonly index: number | undefined;
  readonly field: string | undefined;

  constructor(code: SenmlErrorCode, detail: string, options: SenmlErrorOptions = {}) {
    const { index, field, ...errorOptions } = options;
    super(code, index === undefined ? detail : `record ${index}: ${detail}`, errorOptions);
    this.index = index;
    this.field = field;
  }
}

/** True when `err` is a {@link SenmlError}, optionally with the given code. */
export const isSenmlError = errorPredicate(SenmlError);

/** Quotes untrusted text for an error message, cut so a huge field cannot bloat logs. */
export function quote(text: string, max = 64): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
