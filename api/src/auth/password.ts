import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import { COMMON_PASSWORDS } from './common-passwords.ts';

/** Cost parameters of an argon2id hash. */
export interface Argon2Params {
  /** Memory in KiB (PHC `m`). */
  readonly memoryKiB: number;
  /** Number of passes over memory (PHC `t`). */
  readonly passes: number;
  /** Lanes (PHC `p`). */
  readonly parallelism: number;
  /** Random salt length in bytes. */
  readonly saltBytes: number;
  /** Derived hash length in bytes. */
  readonly tagBytes: number;
}

/**
 * OWASP Password Storage Cheat Sheet's argon2id configuration: 19 MiB, 2 passes, 1 lane, with a
 * 16-byte salt and a 32-byte hash (about 30 ms on a current server core).
 */
export const DEFAULT_ARGON2_PARAMS: Argon2Params = Object.freeze({
  memoryKiB: 19_456,
  passes: 2,
  parallelism: 1,
  saltBytes: 16,
  tagBytes: 32,
});

// A stored hash outside these bounds is refused instead of being computed: it would cost too much
// memory or time (a denial of service), or be too weak to mean anything.
const MAX_MEMORY_KIB = 262_144;
const MAX_PASSES = 16;
const MAX_PARALLELISM = 16;
const MIN_SALT_BYTES = 8;
const MAX_SALT_BYTES = 64;
const MIN_TAG_BYTES = 16;
const MAX_TAG_BYTES = 64;

const ARGON2_VERSION = 19;
const PHC_RE =
  /^\$argon2id\$v=19\$m=([1-9]\d{0,9}),t=([1-9]\d{0,9}),p=([1-9]\d{0,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

interface ParsedHash {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/**
 * A well-formed hash of the default parameters that no password is expected to match. Verify
 * against it when the account does not exist, so an unknown email costs as much time as a
 * wrong password (see {@link verifyAgainstDummy}).
 */
export const DUMMY_PASSWORD_HASH = phcString(
  DEFAULT_ARGON2_PARAMS,
  Buffer.from('NQM0XbbHv8DNhdj+OQ6byQ', 'base64'),
  Buffer.from('VDkhWaSi0PjTQP/CYi0OFiSRQFrTS8KcCljJ/k8/v0s', 'base64'),
);

/**
 * Hashes a password with argon2id and a fresh random salt, returning a PHC string
 * `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (unpadded standard base64). The password is
 * NFKC-normalised first, so visually identical inputs typed on different keyboards match.
 * @param params cost parameters. @default DEFAULT_ARGON2_PARAMS
 */
export async function hashPassword(
  password: string,
  params: Argon2Params = DEFAULT_ARGON2_PARAMS,
): Promise<string> {
  const salt = randomBytes(params.saltBytes);
  const hash = await derive(password, { ...params, salt }, params.tagBytes);
  return phcString(params, salt, hash);
}

/**
 * True when `password` matches the PHC string `phc` made by {@link hashPassword}, comparing in
 * constant time. Returns false (never throws) for a malformed string, another algorithm, or cost
 * parameters outside sane bounds.
 */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const parsed = parsePhc(phc);
  if (parsed === undefined) return false;
  let actual: Buffer;
  try {
    actual = await derive(password, parsed, parsed.hash.length);
  } catch {
    return false;
  }
  return timingSafeEqual(actual, parsed.hash);
}

/**
 * Spends the time of one {@link verifyPassword} against {@link DUMMY_PASSWORD_HASH} and resolves to
 * false. Call it when the login email is unknown so the answer takes as long as for a known one.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  await verifyPassword(password, DUMMY_PASSWORD_HASH);
  return false;
}

/**
 * True when `phc` should be replaced by a fresh {@link hashPassword} after a successful login: it
 * is malformed or was made with other parameters than `params`.
 * @param params the parameters new hashes use. @default DEFAULT_ARGON2_PARAMS
 */
export function passwordNeedsRehash(phc: string, params: Argon2Params = DEFAULT_ARGON2_PARAMS): boolean {
  const parsed = parsePhc(phc);
  return (
    parsed === undefined ||
    parsed.memoryKiB !== params.memoryKiB ||
    parsed.passes !== params.passes ||
    parsed.parallelism !== params.parallelism ||
    parsed.salt.length !== params.saltBytes ||
    parsed.hash.length !== params.tagBytes
  );
}

/** Why {@link checkPasswordPolicy} refuses a password. */
export type PasswordProblemCode = 'TOO_SHORT' | 'TOO_LONG' | 'TOO_COMMON' | 'CONTAINS_EMAIL' | 'TOO_SIMPLE';

/** A refused password: a stable `code` to branch on and a `message` to show the user. */
export interface PasswordProblem {
  readonly code: PasswordProblemCode;
  readonly message: string;
}

/** Fewest characters (Unicode code points, after NFKC) a password may have. */
export const PASSWORD_MIN_LENGTH = 10;
/** Most characters a password may have. */
export const PASSWORD_MAX_LENGTH = 256;
/** Fewest different characters a password must contain. */
export const PASSWORD_MIN_DISTINCT_CHARS = 5;
/** An email local part shorter than this is not looked for inside the password. */
const MIN_EMAIL_LOCAL_PART = 3;

/**
 * Checks a new password against Telly's rules, in this order: at least 10 characters
 * (`TOO_SHORT`), at most 256 (`TOO_LONG`), not one of a built-in list of very common passwords,
 * case-insensitively (`TOO_COMMON`), not containing the local part of the user's email when it has
 * 3 or more characters, case-insensitively (`CONTAINS_EMAIL`), at least 5 different characters
 * (`TOO_SIMPLE`). Returns the first problem, or undefined when the password is acceptable.
 */
export function checkPasswordPolicy(
  password: string,
  context: { readonly email?: string | undefined } = {},
): PasswordProblem | undefined {
  const normalized = password.normalize('NFKC');
  const chars = [...normalized];
  if (chars.length < PASSWORD_MIN_LENGTH) {
    return { code: 'TOO_SHORT', message: `Use at least ${PASSWORD_MIN_LENGTH} characters.` };
  }
  if (chars.length > PASSWORD_MAX_LENGTH) {
    return { code: 'TOO_LONG', message: `Use at most ${PASSWORD_MAX_LENGTH} characters.` };
  }
  const lower = normalized.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) {
    return {
      code: 'TOO_COMMON',
      message: 'This password is too common; choose one that is harder to guess.',
    };
  }
  const at = context.email?.lastIndexOf('@') ?? -1;
  const localPart = (at >= 0 ? context.email?.slice(0, at) : context.email)?.normalize('NFKC').toLowerCase();
  if (localPart !== undefined && [...localPart].length >= MIN_EMAIL_LOCAL_PART && lower.includes(localPart)) {
    return { code: 'CONTAINS_EMAIL', message: 'The password must not contain your email address.' };
  }
  if (new Set(chars).size < PASSWORD_MIN_DISTINCT_CHARS) {
    return {
      code: 'TOO_SIMPLE',
      message: `Use at least ${PASSWORD_MIN_DISTINCT_CHARS} different characters.`,
    };
  }
  return undefined;
}

/**
 * Argon2 hashes computed at once, at most (each holds its memory, 19 MiB by default, and a
 * thread): more logins and signups wait their turn instead of exhausting memory and the thread
 * pool. @default the cores, at most 4
 */
export const MAX_CONCURRENT_HASHES = Math.min(4, availableParallelism());
const hashing = pLimit(MAX_CONCURRENT_HASHES);

function derive(
  password: string,
  params: {
    readonly memoryKiB: number;
    readonly passes: number;
    readonly parallelism: number;
    readonly salt: Buffer;
  },
  tagLength: number,
): Promise<Buffer> {
  return hashing(() => argon2Once(password, params, tagLength));
}

function argon2Once(
  password: string,
  params: Parameters<typeof derive>[1],
  tagLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: Buffer.from(password.normalize('NFKC'), 'utf8'),
        nonce: params.salt,
        parallelism: params.parallelism,
        tagLength,
        memory: params.memoryKiB,
        passes: params.passes,
      },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

function phcString(
  params: Pick<Argon2Params, 'memoryKiB' | 'passes' | 'parallelism'>,
  salt: Buffer,
  hash: Buffer,
): string {
  const cost = `m=${params.memoryKiB},t=${params.passes},p=${params.parallelism}`;
  return `$argon2id$v=${ARGON2_VERSION}$${cost}$${b64(salt)}$${b64(hash)}`;
}

function parsePhc(phc: string): ParsedHash | undefined {
  if (typeof phc !== 'string') return undefined;
  const match = PHC_RE.exec(phc);
  if (match === null) return undefined;
  const [, m, t, p, saltB64, hashB64] = match;
  const memoryKiB = Number(m);
  const passes = Number(t);
  const parallelism = Number(p);
  const salt = unb64(saltB64);
  const hash = unb64(hashB64);
  if (salt === undefined || hash === undefined) return undefined;
  const sane =
    parallelism <= MAX_PARALLELISM &&
    memoryKiB >= 8 * parallelism &&
    memoryKiB <= MAX_MEMORY_KIB &&
    passes <= MAX_PASSES &&
    salt.length >= MIN_SALT_BYTES &&
    salt.length <= MAX_SALT_BYTES &&
    hash.length >= MIN_TAG_BYTES &&
    hash.length <= MAX_TAG_BYTES;
  return sane ? { memoryKiB, passes, parallelism, salt, hash } : undefined;
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** Decodes unpadded base64, refusing non-canonical encodings (stray trailing bits). */
function unb64(text: string | undefined): Buffer | undefined {
  if (text === undefined || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return b64(bytes) === text ? bytes : undefined;
}
