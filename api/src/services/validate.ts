import { isTellyId } from '@telly/schemas';
import { invalid } from '../errors.ts';

export const MAX_NAME_LENGTH = 200;
/** Serialized metadata above this is refused. @default 64 KiB */
export const MAX_METADATA_BYTES = 64 * 1024;
export const MAX_EMAIL_LENGTH = 254;
export const MAX_EXTERNAL_ID_LENGTH = 256;
export const MAX_BOOTSTRAP_CONTENT_BYTES = 64 * 1024;

/** A trimmed, non-empty name of at most {@link MAX_NAME_LENGTH} characters. */
export function validName(field: string, value: string): string {
  const name = value.trim();
  if (name.length === 0) throw invalid(field, 'must not be empty');
  if (name.length > MAX_NAME_LENGTH) throw invalid(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  if (/\p{Cc}/u.test(name)) throw invalid(field, 'must not contain control characters');
  return name;
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

/** Ids are lowercase UUIDs; anything else can only be "not found". */
export function isId(value: string): boolean {
  return isTellyId(value);
}
