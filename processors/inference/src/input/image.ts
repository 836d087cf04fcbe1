import type { ModelPreprocessing } from '@telly/schemas';
import { decode as decodeBmp } from 'bmp-ts';
import sharp, { type Sharp } from 'sharp';
import { InferenceError } from '../errors.ts';

type ImageSpec = Extract<ModelPreprocessing, { kind: 'image' }>;

/** Largest image accepted, in pixels, so a tiny file cannot inflate into gigabytes. @default 4096² */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/** The formats an image may come in (sniffed from the bytes, not trusted from a name). */
export const IMAGE_FORMATS = ['png', 'jpeg', 'bmp', 'tiff', 'webp', 'gif'] as const;

const isBmp = (b: Uint8Array) => b.length > 26 && b[0] === 0x42 && b[1] === 0x4d;

/**
 * Decodes an image file (PNG, JPEG, TIFF, WebP, GIF with sharp; BMP with bmp-ts, which libvips
 * lacks) and makes it the model's input: resized to the spec's size, gray or RGB (channels last),
 * inverted if asked, pixel values mapped onto `scale`. An image that does not decode, or that is
 * smaller than the model's input, is INVALID_INPUT.
 */
export async function imageToTensor(bytes: Uint8Array, spec: ImageSpec): Promise<Float32Array> {
  let image: Sharp;
  let width: number;
  let height: number;
  try {
    if (isBmp(bytes)) {
      const bmp = decodeBmp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { toRGBA: true });
      ({ width, height } = bmp);
      if (width * height > MAX_IMAGE_PIXELS) throw new Error(`${width}x${height} is too many pixels`);
      const rgb = Buffer.alloc(width * height * 3);
      for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
        rgb[j] = bmp.data[i] ?? 0;
        rgb[j + 1] = bmp.data[i + 1] ?? 0;
        rgb[j + 2] = bmp.data[i + 2] ?? 0;
      }
      image = sharp(rgb, { raw: { width, height, channels: 3 } });
    } else {
      image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' });
      const meta = await image.metadata();
      width = meta.width ?? 0;
      height = meta.height ?? 0;
    }
  } catch (err) {
    throw new InferenceError(
      'INVALID_INPUT',
      `the image does not decode as ${IMAGE_FORMATS.join(', ')}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (width < spec.width || height < spec.height) {
    throw new InferenceError(
      'INVALID_INPUT',
      `the image is ${width}x${height}; the model needs at least ${spec.width}x${spec.height}`,
    );
  }
  const channels = spec.grayscale ? 1 : 3;
  let pixels: Buffer;
  try {
    let pipeline = image.flatten({ background: '#000000' }).resize(spec.width, spec.height, { fit: 'fill' });
    pipeline = spec.grayscale ? pipeline.grayscale() : pipeline.toColourspace('srgb');
    pixels = await pipeline.removeAlpha().raw().toBuffer();
  } catch (err) {
    throw new InferenceError('INVALID_INPUT', `the image is corrupt: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const [min, max] = spec.scale;
  const out = new Float32Array(spec.width * spec.height * channels);
  const step = pixels.length / out.length; // 1, or more when libvips kept channels we do not feed
  for (let i = 0; i < out.length; i++) {
    const p = pixels[Math.floor(i * step)] ?? 0;
    const v = spec.invert ? 255 - p : p;
    out[i] = min + (v / 255) * (max - min);
  }
  return out;
}
