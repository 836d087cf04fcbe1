import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boardSensors, SENSORS, SensorBoard } from './sensors.ts';

test('a board of three values is the DHT11 and the soil probe', () => {
  assert.deepEqual(
    boardSensors(3).map((s) => [s.name, s.unit]),
    [
      ['temperature', 'Cel'],
      ['humidity', '%RH'],
      ['soil_moisture', '%'],
    ],
  );
});

test('more values than sensors get numbered names, all distinct', () => {
  const names = boardSensors(SENSORS.length * 2 + 1).map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  assert.equal(names[SENSORS.length], 'temperature_2');
  assert.throws(() => boardSensors(0), RangeError);
});

test('a pack carries the base time once and values that stay within range', () => {
  const board = new SensorBoard(3);
  for (let i = 0; i < 1_000; i++) {
    const pack = board.read(1_700_000_000_123 + i);
    assert.equal(pack.length, 3);
    assert.equal(pack[0]?.bt, (1_700_000_000_123 + i) / 1000);
    assert.equal(pack[1]?.bt, undefined);
    pack.forEach((record, j) => {
      const sensor = board.sensors[j]!;
      assert.ok(record.v >= sensor.min && record.v <= sensor.max, `${record.n} = ${record.v}`);
    });
  }
});
