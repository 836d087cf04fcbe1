// base64url without padding (RFC 4648 §5), the form RFC 8428 §5 prescribes for `vd`.
// Written by hand because this package must run anywhere (no Buffer) and
// Uint8Array.fromBase64 is not yet in every runtime we target.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SEXTET = new Map<string, number>([...ALPHABET].map((char, i) => [char, i]));

/** True when `text` is canonical base64url without padding (unused trailing bits are zero). */
export function isBase64Url(text: string): boolean {
  return decodeBase64Url(text) !== undefined;
}

/** Encodes bytes as base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] ?? 0;
    const b1 = bytes[i + 1] ?? 0;
    const b2 = bytes[i + 2] ?? 0;
    const chunk = (b0 << 16) | (b1 << 8) | b2;
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) out += ALPHABET[(chunk >> (18 - 6 * c)) & 63];
  }
  return out;
}

/**
 * Decodes base64url without padding; undefined for any other text, including padded or
 * non-canonical input, so that decode → encode always gives the same text back.
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const char of text) {
    const sextet = SEXTET.get(char);
    if (sextet === undefined) return undefined;
    acc = ((acc << 6) | sextet) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
