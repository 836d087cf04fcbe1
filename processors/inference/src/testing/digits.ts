import { createRequire } from 'node:module';
import { encode as encodeBmp } from 'bmp-ts';
import sharp from 'sharp';
import { TRAIN_PER_DIGIT } from './digit-split.ts';

const mnist = createRequire(import.meta.url)('mnist') as Record<number, { get(i: number): number[] }>;

export const IMAGE_TYPES = ['png', 'jpeg', 'bmp', 'tiff'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

export interface DigitImage {
  digit: number;
  type: ImageType;
  file: Uint8Array;
}

/** A held-out MNIST digit (28×28, 0..1) as 8-bit gray pixels scaled up `scale` times. */
function pixels(digit: number, index: number, scale: number): { data: Buffer; size: number } {
  const sample = mnist[digit]?.get(TRAIN_PER_DIGIT + index) ?? [];
  const size = 28 * scale;
  const data = Buffer.alloc(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      data[y * size + x] = Math.round(
        (sample[Math.floor(y / scale) * 28 + Math.floor(x / scale)] ?? 0) * 255,
      );
    }
  }
  return { data, size };
}

/** One held-out digit rendered as a real image file of the given type. */
export async function renderDigit(
  digit: number,
  index: number,
  type: ImageType,
  scale = 2,
): Promise<Uint8Array> {
  const { data, size } = pixels(digit, index, scale);
  if (type === 'bmp') {
    const abgr = Buffer.alloc(size * size * 4);
    for (let i = 0; i < data.length; i++) abgr.set([255, data[i] ?? 0, data[i] ?? 0, data[i] ?? 0], i * 4);
    return new Uint8Array(encodeBmp({ data: abgr, width: size, height: size, bitPP: 24 }).data);
  }
  const image = sharp(data, { raw: { width: size, height: size, channels: 1 } });
  const encoded = type === 'png' ? image.png() : type === 'jpeg' ? image.jpeg({ quality: 95 }) : image.tiff();
  return new Uint8Array(await encoded.toBuffer());
}

/** `perDigit` held-out images of each digit in each type (10 × perDigit × 4 files). */
export async function renderDigits(
  perDigit: number,
  types: readonly ImageType[] = IMAGE_TYPES,
): Promise<DigitImage[]> {
  const out: DigitImage[] = [];
  for (let digit = 0; digit < 10; digit++) {
    for (let i = 0; i < perDigit; i++) {
      for (const type of types) out.push({ digit, type, file: await renderDigit(digit, i, type) });
    }
  }
  return out;
}
