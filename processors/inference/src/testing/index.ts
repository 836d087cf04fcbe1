// Test support for other packages' tests (not for production code): the reference models and
// held-out digits rendered as image files.

export type { DeepMlpShape } from './deep-mlp.ts';
export { deepMlp } from './deep-mlp.ts';
export type { DigitImage, ImageType } from './digits.ts';
export { IMAGE_TYPES, renderDigit, renderDigits } from './digits.ts';
export { REFERENCE_MODELS, referenceModel, withDescription, withPadding } from './models.ts';
