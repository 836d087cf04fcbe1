import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toSample } from '../input/predict-input.ts';
import { LoadedModel } from '../onnx/loaded-model.ts';
import { baselineToOnnx, HOUR_OF_DAY, type Reading, trainBaseline } from './baseline.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 23);

/** A week of soil temperature every 10 minutes: a daily cycle and a little seeded noise. */
function week(): Reading[] {
  let seed = 16;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31 - 0.5) * 0.8;
  };
  const out: Reading[] = [];
  for (let t = START; t < START + 7 * 24 * HOUR; t += HOUR / 6) {
    const hour = new Date(t).getUTCHours();
    out.push({ timeMs: t, value: 18 + 6 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + noise() });
  }
  return out;
}

describe('the anomaly baseline', () => {
  it('learns a week by hour of day and, as ONNX, flags injected anomalies only', async () => {
    const baseline = trainBaseline(week());
    assert.equal(baseline.metrics.samples, 7 * 24 * 6);
    assert.equal(baseline.metrics.hoursCovered, 24);
    const model = await LoadedModel.load(
      baselineToOnnx(baseline, { measurement: 'temperature', description: 'soil' }),
    );
    assert.deepEqual(model.info.preprocessing, {
      kind: 'telemetry',
      measurements: [HOUR_OF_DAY, 'temperature'],
    });
    const at = (hour: number, temperature: number) =>
      toSample(model.info, { values: { [HOUR_OF_DAY]: hour, temperature } });
    const normal = 18 + 6 * Math.sin(((15 - 9) / 24) * 2 * Math.PI); // 15:00, the warm hour
    const samples = await Promise.all([
      at(15, normal),
      at(15, normal + 0.3),
      at(3, 18 + 6 * Math.sin(((3 - 9) / 24) * 2 * Math.PI)),
      at(15, normal - 9), // a cold spike in the afternoon
      at(3, normal), // the afternoon's temperature at 3 a.m.
      at(9, 60), // a sensor fault
    ]);
    const results = await model.run(samples);
    assert.deepEqual(
      results.map((r) => r.anomaly),
      [false, false, false, true, true, true],
    );
    assert.ok((results[5]?.score ?? 0) > (results[3]?.score ?? Infinity));
  });

  it('refuses a window too short to learn from', () => {
    assert.throws(
      () => trainBaseline(week().slice(0, 10)),
      /holds 10 readings; a baseline needs at least 48/,
    );
  });
});
