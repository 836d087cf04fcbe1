/**
 * The `mnist` package holds about 1,000 samples of each digit: the first TRAIN_PER_DIGIT train the
 * reference classifier (training/train.py), the ones from there on are held out for the tests.
 */
export const TRAIN_PER_DIGIT = 800;
