import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseTellyId, UUID_PATTERN } from '@telly/schemas';

/** Random bytes in every generated secret (256 bits): 43 base64url characters. */
const SECRET_BYTES = 32;
const SECRET_RE_SOURCE = '[A-Za-z0-9_-]{43}';

/** Prefix of Telly API keys, so secret scanners and humans can recognise one. */
export const API_KEY_PREFIX = 'tak_';

const API_KEY_RE = new RegExp(`^${API_KEY_PREFIX}([0-9a-f]{32})_(${SECRET_RE_SOURCE})$`);
const REFRESH_TOKEN_RE = new RegExp(`^(${UUID_PATTERN.slice(1, -1)})\\.(${SECRET_RE_SOURCE})$`);

/** The stored form of a secret, `sha256:<hex>`: the one implementation lives in `@telly/schemas`. */
export { keyHash } from '@telly/schemas';

/** A new thing (device) key: 32 random bytes, base64url without padding (43 characters). */
export function newThingKey(): string {
  return randomSecret();
}

/** The parts of an API key, from {@link parseApiKey}. */
export interface ParsedApiKey {
  /** The key's id (lowercase, dashed UUID): look the key up by it. */
  readonly apikeyId: string;
  /** The random part after the id. */
  readonly secret: string;
}

/**
 * A new API key for `apikeyId` (a UUID): `tak_<id as 32 hex digits>_<43-char base64url secret>`.
 * Store `keyHash(key)` (of the whole key) with the id; show the key to the user once. To check one,
 * look the id up with {@link parseApiKey} and compare `keyHash(key)` with the stored hash.
 * @throws TypeError when `apikeyId` is not a UUID.
 */
export function newApiKey(apikeyId: string): string {
  const id = parseTellyId(apikeyId.toLowerCase(), 'apikeyId');
  return `${API_KEY_PREFIX}${id.replaceAll('-', '')}_${randomSecret()}`;
}

/** Splits an API key made by {@link newApiKey}; undefined when `token` is not one. */
export function parseApiKey(token: string): ParsedApiKey | undefined {
  const match = typeof token === 'string' ? API_KEY_RE.exec(token) : null;
  if (match === null) return undefined;
  const [, hex, secret] = match as unknown as [string, string, string];
  const apikeyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { apikeyId, secret };
}

/** The parts of a refresh token, from {@link parseRefreshToken}. */
export interface ParsedRefreshToken {
  /** The token family (login session) it belongs to: a lowercase UUID. */
  readonly familyId: string;
  /** The random part after the dot. */
  readonly secret: string;
  /** The whole token as given: `keyHash(token)` is what to store and compare. */
  readonly token: string;
}

/**
 * A new refresh token in family (session) `familyId`: `<familyId>.<43-char base64url secret>`.
 * @throws TypeError when `familyId` is not a lowercase UUID.
 */
export function newRefreshToken(familyId: string): string {
  return `${parseTellyId(familyId, 'familyId')}.${randomSecret()}`;
}

/** Splits a refresh token made by {@link newRefreshToken}; undefined when `token` is not one. */
export function parseRefreshToken(token: string): ParsedRefreshToken | undefined {
  const match = typeof token === 'string' ? REFRESH_TOKEN_RE.exec(token) : null;
  if (match === null) return undefined;
  const [, familyId, secret] = match as unknown as [string, string, string];
  return { familyId, secret, token };
}

/**
 * Compares two strings in time that depends on neither their contents nor their lengths (both
 * are hashed to 32 bytes first). Use it for secrets and their hashes.
 */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

function randomSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}
