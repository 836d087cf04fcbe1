import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInferenceError } from '../errors.ts';
import { toSample } from '../input/predict-input.ts';
import { IMAGE_TYPES, renderDigit, renderDigits } from '../testing/digits.ts';
import { referenceModel } from '../testing/models.ts';
import { LoadedModel } from './loaded-model.ts';

describe('LoadedModel with the reference digit classifier', async () => {
  const model = await LoadedModel.load(referenceModel('digits'));

  it('reads labels, shapes and specs from the file itself', () => {
    assert.deepEqual(model.info.labels, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(model.info.inputs, [{ name: 'image', type: 'float32', shape: [-1, 784] }]);
    assert.equal(model.info.preprocessing.kind, 'image');
    assert.deepEqual(model.info.postprocessing, { kind: 'classification', output: 'probabilities', topK: 3 });
    assert.match(model.info.description, /MNIST/);
  });

  it('classifies held-out digits rendered as PNG, JPEG, BMP and TIFF files (≥ 90 % each)', async () => {
    const images = await renderDigits(10);
    const samples = await Promise.all(images.map((i) => toSample(model.info, { image: i.file })));
    const results = await model.run(samples);
    for (const type of IMAGE_TYPES) {
      const ofType = images.map((img, i) => ({ img, r: results[i] })).filter(({ img }) => img.type === type);
      const right = ofType.filter(({ img, r }) => r?.predictions[0]?.label === String(img.digit)).length;
      const accuracy = right / ofType.length;
      console.log(`digits ${type}: ${right}/${ofType.length} = ${(accuracy * 100).toFixed(1)} %`);
      assert.ok(accuracy >= 0.9, `${type}: ${accuracy}`);
    }
    const first = results[0];
    assert.equal(first?.predictions.length, 3);
    assert.ok((first?.predictions[0]?.probability ?? 0) >= (first?.predictions[1]?.probability ?? 1));
    assert.equal(first?.outputs.probabilities?.length, 10);
  });

  it('refuses a corrupt image, one smaller than the input, a tensor of the wrong shape', async () => {
    const png = await renderDigit(3, 0, 'png');
    await assert.rejects(toSample(model.info, { image: png.slice(0, 40) }), (err) =>
      isInferenceError(err, 'INVALID_INPUT'),
    );
    const small = await renderDigit(3, 0, 'png', 0.5);
    await assert.rejects(
      toSample(model.info, { image: small }),
      /the image is 14x14; the model needs at least 28x28/,
    );
    await assert.rejects(
      toSample(model.info, { tensor: [1, 2, 3] }),
      /tensor: 3 values given; input image \[-1, 784\] takes 784/,
    );
    await assert.rejects(toSample(model.info, { values: { a: 1 } }), /values: this model takes an image/);
  });
});

describe('LoadedModel.load', () => {
  it('refuses a file that is not ONNX', async () => {
    await assert.rejects(LoadedModel.load(new TextEncoder().encode('hello, not a model')), (err) =>
      isInferenceError(err, 'INVALID_MODEL'),
    );
  });

  it('runs the soil anomaly model on telemetry values', async () => {
    const model = await LoadedModel.load(referenceModel('soilAnomaly'));
    const normal = await toSample(model.info, { values: { temperature: 21, humidity: 55, moisture: 42 } });
    const odd = await toSample(model.info, { values: { temperature: 45, humidity: 10, moisture: 90 } });
    const [a, b] = await model.run([normal, odd]);
    assert.equal(a?.anomaly, false);
    assert.equal(b?.anomaly, true);
    await assert.rejects(toSample(model.info, { values: { temperature: 1 } }), /values: humidity is missing/);
  });
});
