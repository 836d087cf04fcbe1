import { parseSubject } from '../subjects/parse.ts';
import { checkStorable } from './accept.ts';
import { decodeMessage, messageFormat } from './decode.ts';
import { senmlTimeToMs } from './resolve.ts';

/**
 * One telemetry point: a resolved SenML record of a stored message, with where it came from.
 * What every telemetry projection (Postgres, InfluxDB) and live subscription is made of.
 */
export interface TelemetryPoint {
  tenantId: string;
  channelId: string;
  thingId: string;
  /** Subtopic levels joined with `/` ('' when none). */
  subtopic: string;
  name: string;
  unit: string | undefined;
  /** ms since the epoch (SenML float seconds, rounded to the ms). */
  timeMs: number;
  value: number | undefined;
  stringValue: string | undefined;
  boolValue: boolean | undefined;
  dataValue: string | undefined;
  sum: number | undefined;
  /** Stream sequence of the message, and the record's index in it: a point's identity. */
  seq: number;
  index: number;
}

/** A MESSAGES entry as the projections read it. */
export interface StoredMessage {
  subject: string;
  seq: number;
  /** `Content-Type` header. @default application/senml+json */
  contentType: string | undefined;
  /** `Telly-Received` header (ms): the `now` plain JSON and relative times were resolved against. */
  receivedMs: number | undefined;
  body: Uint8Array;
}

/**
 * The points of a stored message. Deterministic: decoding the same entry during a replay gives
 * the same points, because relative times resolve against `Telly-Received`, not the clock. An
 * `application/senml+json` entry holds a pack the bridge resolved already: its times are
 * absolute and are not resolved a second time (that would move a time before 1978 by decades).
 * Throws SenmlError / SubjectError for an entry that is not a telemetry message, and a
 * SenmlError with one of the `UNSTORABLE_CODES` for one whose records no projection can store
 * ({@link checkStorable}).
 */
export function telemetryPoints(message: StoredMessage): TelemetryPoint[] {
  const subject = parseSubject(message.subject);
  if (subject.kind !== 'msg') return [];
  const contentType = message.contentType ?? 'application/senml+json';
  const { records } = decodeMessage(contentType, message.body, {
    now: (message.receivedMs ?? 0) / 1000,
    relativeTimes: messageFormat(contentType) !== 'senml+json',
  });
  checkStorable(records);
  return records.map((record, index) => ({
    tenantId: subject.tenant,
    channelId: subject.channel,
    thingId: subject.thing,
    subtopic: subject.subtopic.join('/'),
    name: record.n,
    unit: record.u,
    timeMs: senmlTimeToMs(record.t),
    value: record.v,
    stringValue: record.vs,
    boolValue: record.vb,
    dataValue: record.vd,
    sum: record.s,
    seq: message.seq,
    index,
  }));
}

/** A MESSAGES entry however it was read (a processor's delivery, a replay's fetch, a live feed). */
export interface LogEntry {
  subject: string;
  seq: number;
  data: Uint8Array;
  headers: { get(name: string): string } | undefined;
  /** When the entry was stored, ms since the epoch: `Telly-Received` when the header is missing. */
  timestampMs: number;
}

/**
 * The points of a log entry, from its `Content-Type` and `Telly-Received` headers. Throws
 * SenmlError / SubjectError for an entry that is not telemetry.
 */
export function pointsOf(m: LogEntry): TelemetryPoint[] {
  return telemetryPoints({
    subject: m.subject,
    seq: m.seq,
    contentType: m.headers?.get('Content-Type') || undefined,
    receivedMs: Number(m.headers?.get('Telly-Received')) || m.timestampMs,
    body: m.data,
  });
}
