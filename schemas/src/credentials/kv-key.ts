import { CredentialError } from './errors.ts';
import { isKeyHash, KEY_HASH_PREFIX } from './key-hash.ts';

/** First token of every thing-key entry in the `credentials` bucket. */
const KEYS_TOKEN = 'keys';

/** The bucket filter that matches every thing-key entry: what a watching bridge subscribes to. */
export const CREDENTIAL_KEYS_FILTER = `${KEYS_TOKEN}.>`;

/**
 * `sha256:<hex>` → `keys.<hex>`, the `credentials` bucket key of a thing key's hash.
 * @throws CredentialError `INVALID_KEY_HASH` for anything else, so no other key is ever read.
 */
export function credentialKvKey(hash: string): string {
  if (!isKeyHash(hash)) {
    throw new CredentialError('INVALID_KEY_HASH', `${JSON.stringify(hash)} is not sha256:<64 hex digits>`);
  }
  return `${KEYS_TOKEN}.${hash.slice(KEY_HASH_PREFIX.length)}`;
}

/** `keys.<hex>` → `sha256:<hex>`, the inverse of {@link credentialKvKey}; undefined for other keys. */
export function keyHashFromKvKey(kvKey: string): string | undefined {
  const prefix = `${KEYS_TOKEN}.`;
  if (!kvKey.startsWith(prefix)) return undefined;
  const hash = `${KEY_HASH_PREFIX}${kvKey.slice(prefix.length)}`;
  return isKeyHash(hash) ? hash : undefined;
}
