import {
  isTellyId,
  MAX_THING_RATE_BURST,
  MAX_THING_RATE_PER_SECOND,
  type ThingRateLimit,
} from '@telly/schemas';
import { invalid } from '../errors.ts';

export const MAX_NAME_LENGTH = 200;
/** Serialized metadata above this is refused. @default 64 KiB */
export const MAX_METADATA_BYTES = 64 * 1024;
export const MAX_EMAIL_LENGTH = 254;
export const MAX_EXTERNAL_ID_LENGTH = 256;
export const MAX_BOOTSTRAP_CONTENT_BYTES = 64 * 1024;
/** Bounds of a bootstrap external key, in characters. */
export const MIN_EXTERNAL_KEY_LENGTH = 12;
export const MAX_EXTERNAL_KEY_LENGTH = 256;
/** Fewest bits an external key must carry, estimated from its length and character classes. */
export const MIN_EXTERNAL_KEY_BITS = 64;
const MIN_EXTERNAL_KEY_DISTINCT = 6;

/** The longest history a job reads from the log, a backtest or a replay (MESSAGES keeps 30 days). @default 31 days */
export const MAX_LOG_RANGE_MS = 31 * 24 * 3_600_000;

/** A range of the log a job reads: `to` after `from`, at most {@link MAX_LOG_RANGE_MS} apart. */
export function validLogRange(from: Date, to: Date): void {
  if (!(to.getTime() > from.getTime())) throw invalid('to', 'must be after from');
  if (to.getTime() - from.getTime() > MAX_LOG_RANGE_MS) throw invalid('to', 'the range is at most 31 days');
}

/** A trimmed, non-empty name of at most {@link MAX_NAME_LENGTH} characters. */
export function validName(field: string, value: string): string {
  const name = value.trim();
  if (name.length === 0) throw invalid(field, 'must not be empty');
  if (name.length > MAX_NAME_LENGTH) throw invalid(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  if (/\p{Cc}/u.test(name)) throw invalid(field, 'must not contain control characters');
  return name;
}

/**
 * A thing's own rate limit from `perSecond` and `burst`, both given (null when both are absent:
 * the deployment's limit): `perSecond` in (0, {@link MAX_THING_RATE_PER_SECOND}], `burst` a whole
 * number in [1, {@link MAX_THING_RATE_BURST}].
 */
export function validRateLimit(
  perSecond: number | null | undefined,
  burst: number | null | undefined,
): ThingRateLimit | null {
  if (perSecond == null && burst == null) return null;
  if (perSecond == null) throw invalid('perSecond', 'must be given with burst (or both omitted to clear)');
  if (burst == null) throw invalid('burst', 'must be given with perSecond (or both omitted to clear)');
  if (!Number.isFinite(perSecond) || perSecond <= 0 || perSecond > MAX_THING_RATE_PER_SECOND) {
    throw invalid('perSecond', `must be more than 0 and at most ${MAX_THING_RATE_PER_SECOND}`);
  }
  if (!Number.isInteger(burst) || burst < 1 || burst > MAX_THING_RATE_BURST) {
    throw invalid('burst', `must be a whole number from 1 to ${MAX_THING_RATE_BURST}`);
  }
  return { perSecond, burst };
}

/** A JSON object of at most {@link MAX_METADATA_BYTES}. */
export function validMetadata(field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(field, 'must be a JSON object');
  }
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > MAX_METADATA_BYTES)
    throw invalid(field, `is ${size} bytes, at most ${MAX_METADATA_BYTES} allowed`);
  return value as Record<string, unknown>;
}

/** Lowercased and trimmed; a plausible address (the mailbox is not verified here). */
export function validEmail(field: string, value: string): string {
  const email = value.trim().toLowerCase();
  if (email.length > MAX_EMAIL_LENGTH) throw invalid(field, `must be at most ${MAX_EMAIL_LENGTH} characters`);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalid(field, 'is not an email address');
  return email;
}

/**
 * A bootstrap external key strong enough against guessing (anyone may try keys at the bootstrap
 * endpoint, and a hit rotates the real device's key): {@link MIN_EXTERNAL_KEY_LENGTH} to
 * {@link MAX_EXTERNAL_KEY_LENGTH} characters, {@link MIN_EXTERNAL_KEY_DISTINCT} different ones,
 * and at least {@link MIN_EXTERNAL_KEY_BITS} bits by length × log2(the alphabet of the character
 * classes used: lowercase 26, uppercase 26, digits 10, others 33), e.g. 16 random letters and digits.
 */
export function validExternalKey(field: string, value: string): string {
  const chars = [...value];
  if (chars.length < MIN_EXTERNAL_KEY_LENGTH || chars.length > MAX_EXTERNAL_KEY_LENGTH) {
    throw invalid(field, `must be ${MIN_EXTERNAL_KEY_LENGTH} to ${MAX_EXTERNAL_KEY_LENGTH} characters`);
  }
  if (new Set(chars).size < MIN_EXTERNAL_KEY_DISTINCT) {
    throw invalid(field, `must have at least ${MIN_EXTERNAL_KEY_DISTINCT} different characters`);
  }
  const alphabet =
    (/\p{Ll}/u.test(value) ? 26 : 0) +
    (/\p{Lu}/u.test(value) ? 26 : 0) +
    (/\d/.test(value) ? 10 : 0) +
    (/[^\p{Ll}\p{Lu}\d]/u.test(value) ? 33 : 0);
  const bits = Math.floor(chars.length * Math.log2(alphabet));
  if (bits < MIN_EXTERNAL_KEY_BITS) {
    throw invalid(
      field,
      `is too easy to guess (about ${bits} bits, at least ${MIN_EXTERNAL_KEY_BITS}): use e.g. 16 random letters and digits`,
    );
  }
  return value;
}

/** Ids are lowercase UUIDs; anything else can only be "not found". */
export function isId(value: string): boolean {
  return isTellyId(value);
}
