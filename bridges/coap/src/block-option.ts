/** A Block1 or Block2 option's value (RFC 7959 §2.2). */
export interface BlockOption {
  num: number;
  more: boolean;
  /** The block size exponent: size = 2 ** (szx + 4). */
  szx: number;
}

/** Reads a Block option (0–3 bytes, big-endian); undefined when malformed (szx 7 is BERT, TCP only). */
export function readBlockOption(value: Buffer | Uint8Array): BlockOption | undefined {
  if (value.length > 3) return undefined;
  let n = 0;
  for (const byte of value) n = (n << 8) | byte;
  const szx = n & 7;
  if (szx === 7) return undefined;
  return { num: n >>> 4, more: (n & 8) !== 0, szx };
}

/** Encodes a Block option in the fewest bytes. */
export function writeBlockOption({ num, more, szx }: BlockOption): Buffer {
  const n = (num << 4) | (more ? 8 : 0) | szx;
  if (n === 0) return Buffer.alloc(0);
  if (n < 0x100) return Buffer.of(n);
  if (n < 0x10000) return Buffer.of(n >> 8, n & 0xff);
  return Buffer.of(n >> 16, (n >> 8) & 0xff, n & 0xff);
}

/** Bytes in a block of exponent `szx`. */
export const blockSize = (szx: number): number => 2 ** (szx + 4);
