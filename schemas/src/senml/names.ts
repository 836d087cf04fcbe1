/**
 * The character rule for a concatenated name (RFC 8428 §4.5.1): first an ASCII letter or digit,
 * then letters, digits, `-`, `:`, `.`, `/` or `_`.
 */
export const SENML_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:./_-]*$/;

/** True when `name` is a valid concatenated SenML name (RFC 8428 §4.5.1). */
export function isValidSenmlName(name: string): boolean {
  return SENML_NAME_PATTERN.test(name);
}

/** The rule as worded in error messages. */
export const NAME_RULE = `must match ${SENML_NAME_PATTERN.source} (RFC 8428 §4.5.1)`;
