// The readings a simulated device sends: a small sensor board (a DHT11's temperature and
// humidity, a soil-moisture probe, then light, battery, pressure and CO2 when more values are
// asked for), each value random-walking within its range, as one SenML pack per message.

export interface Sensor {
  name: string;
  /** SenML unit (RFC 8428 §12.1). */
  unit: string;
  min: number;
  max: number;
  /** Largest change between two readings. */
  step: number;
  decimals: number;
}

/** The board's sensors in the order `values` takes them. */
export const SENSORS: readonly Sensor[] = [
  { name: 'temperature', unit: 'Cel', min: 10, max: 35, step: 0.2, decimals: 1 },
  { name: 'humidity', unit: '%RH', min: 20, max: 95, step: 0.5, decimals: 0 },
  { name: 'soil_moisture', unit: '%', min: 5, max: 60, step: 0.3, decimals: 1 },
  { name: 'light', unit: 'lx', min: 0, max: 20_000, step: 150, decimals: 0 },
  { name: 'battery', unit: 'V', min: 3.3, max: 4.2, step: 0.005, decimals: 3 },
  { name: 'pressure', unit: 'Pa', min: 98_000, max: 103_000, step: 20, decimals: 0 },
  { name: 'co2', unit: 'ppm', min: 400, max: 2_000, step: 10, decimals: 0 },
];

/** One SenML record as the board writes it (the first carries the base time). */
export interface SensorRecord {
  bt?: number;
  n: string;
  u: string;
  v: number;
}

/**
 * The sensors of a board reporting `values` values: the list above, then numbered copies of it
 * (`temperature_2`, …) when more are asked for.
 */
export function boardSensors(values: number): Sensor[] {
  if (!Number.isInteger(values) || values < 1) throw new RangeError('values must be a positive integer');
  return Array.from({ length: values }, (_, i) => {
    const sensor = SENSORS[i % SENSORS.length]!;
    const copy = Math.floor(i / SENSORS.length);
    return copy === 0 ? sensor : { ...sensor, name: `${sensor.name}_${copy + 1}` };
  });
}

/** A board's current readings; `read(timeMs)` advances every value one random step. */
export class SensorBoard {
  readonly sensors: readonly Sensor[];
  readonly #values: number[];
  readonly #random: () => number;

  constructor(values: number, random: () => number = Math.random) {
    this.sensors = boardSensors(values);
    this.#random = random;
    this.#values = this.sensors.map((s) => s.min + (s.max - s.min) * random());
  }

  /** The next pack, stamped with `timeMs` (SenML seconds) as its base time. */
  read(timeMs: number): SensorRecord[] {
    return this.sensors.map((sensor, i) => {
      const walked = this.#values[i]! + (this.#random() * 2 - 1) * sensor.step;
      const value = Math.min(sensor.max, Math.max(sensor.min, walked));
      this.#values[i] = value;
      const record: SensorRecord = {
        n: sensor.name,
        u: sensor.unit,
        v: Number(value.toFixed(sensor.decimals)),
      };
      return i === 0 ? { bt: timeMs / 1000, ...record } : record;
    });
  }
}
