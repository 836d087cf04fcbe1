export type { CredentialErrorCode } from './errors.ts';
export { CredentialError, isCredentialError } from './errors.ts';
export { isKeyHash, KEY_HASH_PATTERN, KEY_HASH_PREFIX, keyHash } from './key-hash.ts';
export { CREDENTIAL_KEYS_FILTER, credentialKvKey, keyHashFromKvKey } from './kv-key.ts';
export { parseThingAuthorization, THING_AUTH_SCHEME } from './thing-authorization.ts';
export type { CredentialEntry, ThingCredential } from './thing-credential.ts';
export {
  credentialOfEntry,
  decodeThingCredential,
  encodeThingCredential,
  sameAccess,
} from './thing-credential.ts';
