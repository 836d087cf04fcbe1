import {
  type LogEntry,
  type MessageSubject,
  parseSubject,
  pointsOf,
  type TelemetryPoint,
} from '@telly/schemas';
import type { PredictInput } from '../input/predict-input.ts';
import { HOUR_OF_DAY } from '../training/baseline.ts';
import type { Serving } from './serving.ts';

/** One log entry a binding runs its model on: where it came from and what the model is fed. */
export interface BoundItem {
  entry: LogEntry;
  tenant: string;
  channel: string;
  thing: string;
  /** The earliest point's time: the results' time. */
  timeMs: number;
  input: PredictInput;
}

/**
 * A device message's subject and points, or undefined when it is not telemetry a model may run
 * on, or not from a source `watched` (asked before anything but the subject is read: most
 * messages go to no binding, and decoding them is most of what a binding costs).
 */
export function deviceReading(
  entry: LogEntry,
  protocol: string,
  watched: (subject: MessageSubject) => boolean = () => true,
): { tenant: string; channel: string; thing: string; points: TelemetryPoint[] } | undefined {
  const subject = parseSubject(entry.subject);
  if (subject.kind !== 'msg' || !watched(subject)) return undefined;
  if (entry.headers?.get('Telly-Protocol') === protocol) return undefined; // a result: never an input
  try {
    return {
      tenant: subject.tenant,
      channel: subject.channel,
      thing: subject.thing,
      points: pointsOf(entry),
    };
  } catch {
    return undefined; // not telemetry: telemetry-pg dead-letters it, nothing runs on it
  }
}

/** base64url (SenML `vd`) or base64 to bytes. */
const dataBytes = (vd: string) => new Uint8Array(Buffer.from(vd, 'base64url'));

/** What a binding feeds its model from one message's points, or undefined when they do not match. */
export function inputOf(
  serving: Serving,
  measurements: readonly string[],
  points: readonly TelemetryPoint[],
): PredictInput | undefined {
  const byName = new Map(points.map((p) => [p.name, p]));
  if (!measurements.every((n) => byName.has(n))) return undefined;
  const pre = serving.loaded.info.preprocessing;
  if (pre.kind === 'image') {
    const vd = byName.get(measurements[0] ?? '')?.dataValue;
    return { image: vd === undefined ? new Uint8Array() : dataBytes(vd) };
  }
  if (pre.kind === 'telemetry') {
    const values: Record<string, number> = Object.fromEntries(
      points.filter((p) => p.value !== undefined).map((p) => [p.name, p.value as number]),
    );
    values[HOUR_OF_DAY] = new Date(Math.min(...points.map((p) => p.timeMs))).getUTCHours();
    return { values };
  }
  return { tensor: measurements.map((n) => byName.get(n)?.value ?? Number.NaN) };
}

/** The item a binding makes of a reading, or undefined when the reading lacks its measurements. */
export function boundItem(
  serving: Serving,
  measurements: readonly string[],
  entry: LogEntry,
  reading: { tenant: string; channel: string; thing: string; points: TelemetryPoint[] },
): BoundItem | undefined {
  const input = inputOf(serving, measurements, reading.points);
  if (!input) return undefined;
  const { tenant, channel, thing, points } = reading;
  return { entry, tenant, channel, thing, timeMs: Math.min(...points.map((p) => p.timeMs)), input };
}
