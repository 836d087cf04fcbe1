import { createHash } from 'node:crypto';

/** The algorithm prefix of every stored key hash. */
export const KEY_HASH_PREFIX = 'sha256:';

/** A key hash as a JSON Schema / RegExp pattern: `sha256:` and 64 lowercase hex digits. */
export const KEY_HASH_PATTERN = '^sha256:[0-9a-f]{64}$';

const KEY_HASH = new RegExp(KEY_HASH_PATTERN);

/**
 * The stored form of a high-entropy secret (thing key, API key, refresh token, bootstrap external
 * key): `sha256:<64 lowercase hex>`, the format the registry events' `keyHash` accepts. A fast
 * hash is enough because the secrets are random; never use it for passwords.
 */
export function keyHash(secret: string): string {
  return `${KEY_HASH_PREFIX}${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** True for a `sha256:<64 lowercase hex>` key hash. */
export function isKeyHash(value: string): boolean {
  return KEY_HASH.test(value);
}
