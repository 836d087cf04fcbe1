import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorPredicate, TellyError } from '@telly/schemas';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';

/** The public half of an Ed25519 key as a JWK, with only its required members. */
export interface PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
}

/** The key that signs Telly access tokens. */
export interface SigningKey {
  /** RFC 7638 JWK thumbprint of the public key: the `kid` of tokens and of the JWKS entry. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: PublicJwk;
}

/** Where {@link loadSigningKey} finds the key. */
export interface SigningKeySource {
  /** An Ed25519 private JWK as a JSON string (`{"kty":"OKP","crv":"Ed25519","d":…,"x":…}`); wins over `file`. */
  readonly privateJwk?: string | undefined;
  /** A file holding that JWK; created (mode 0600, directories made) with a new key when missing. */
  readonly file?: string | undefined;
}

/** One entry of a JSON Web Key Set served to token verifiers. */
export interface PublicJwkEntry extends PublicJwk {
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** The configured signing key cannot be used; `source` says which one (`privateJwk` or the file path). */
export class SigningKeyError extends TellyError<'SIGNING_KEY_INVALID'> {
  readonly source: string;
  constructor(source: string, message: string, options?: ErrorOptions) {
    super('SIGNING_KEY_INVALID', `${source}: ${message}`, options);
    this.source = source;
  }
}

/** True when `err` is a {@link SigningKeyError}. */
export const isSigningKeyError = errorPredicate(SigningKeyError);

/**
 * Loads the Ed25519 key that signs access tokens: from `privateJwk` when given; else from `file`
 * when it exists; else a newly generated key, written to `file` (mode 0600) when `file` is given so
 * restarts keep it. Without either, the key lives only in this process: tokens die with it.
 * @throws SigningKeyError when the JWK is not JSON, not an Ed25519 private key, or inconsistent.
 */
export async function loadSigningKey(source: SigningKeySource = {}): Promise<SigningKey> {
  if (source.privateJwk !== undefined && source.privateJwk.trim() !== '') {
    return fromJwkText(source.privateJwk, 'privateJwk');
  }
  if (source.file === undefined || source.file === '') return fromJwk(await generateJwk(), 'generated');
  const existing = await readIfExists(source.file);
  if (existing !== undefined) return fromJwkText(existing, source.file);
  const jwk = await generateJwk();
  await mkdir(dirname(source.file), { recursive: true, mode: 0o700 });
  // Written whole under a temporary name, then linked into place: the link fails if another process
  // created the file meanwhile, and then its (complete) key is used rather than overwritten.
  const temporary = `${source.file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, source.file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return fromJwkText(await readFile(source.file, 'utf8'), source.file);
  } finally {
    await unlink(temporary);
  }
  return fromJwk(jwk, source.file);
}

/** The JSON Web Key Set publishing `keys` (`/.well-known/jwks.json`), each with `kid`, `alg` and `use`. */
export function jwks(keys: readonly Pick<SigningKey, 'kid' | 'publicJwk'>[]): { keys: PublicJwkEntry[] } {
  return {
    keys: keys.map((key) => ({ ...key.publicJwk, kid: key.kid, alg: 'EdDSA', use: 'sig' })),
  };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function generateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return exportJWK(privateKey);
}

function fromJwkText(text: string, source: string): Promise<SigningKey> {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch (err) {
    throw new SigningKeyError(source, 'is not valid JSON', { cause: err });
  }
  return fromJwk(jwk, source);
}

async function fromJwk(jwk: unknown, source: string): Promise<SigningKey> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new SigningKeyError(source, 'must be a JWK object');
  }
  const { kty, crv, d, x } = jwk as Record<string, unknown>;
  if (kty !== 'OKP' || crv !== 'Ed25519') {
    throw new SigningKeyError(
      source,
      `must be an Ed25519 key (kty "OKP", crv "Ed25519"), got kty ${JSON.stringify(kty)}, crv ${JSON.stringify(crv)}`,
    );
  }
  if (typeof d !== 'string' || d === '')
    throw new SigningKeyError(source, 'must be a private key (has no "d")');
  if (typeof x !== 'string' || x === '') throw new SigningKeyError(source, 'has no public key ("x")');
  const publicJwk: PublicJwk = { kty, crv, x };
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    // Only the key material: a stray alg/use/key_ops must not change how the key is imported.
    privateKey = (await importJWK({ kty, crv, d, x }, 'EdDSA')) as CryptoKey;
    publicKey = (await importJWK({ ...publicJwk }, 'EdDSA')) as CryptoKey;
  } catch (err) {
    throw new SigningKeyError(source, 'is not a usable Ed25519 key ("d" and "x" must be one key pair)', {
      cause: err,
    });
  }
  const kid = await calculateJwkThumbprint({ ...publicJwk }, 'sha256');
  return { kid, privateKey, publicKey, publicJwk };
}
