const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a canonical (lowercase, dashed) UUID of any version, the only form Telly ids take. */
export function isLowercaseUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}
