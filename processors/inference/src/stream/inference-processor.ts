import { defineProcessor, type ProcessorMessage, type Publisher } from '@telly/runtime';
import {
  createEvent,
  type EventData,
  encodeResolvedJson,
  INFERENCE_RESULT_PROTOCOL,
  type LogEntry,
  messageSubject,
  parseSubject,
  pointsOf,
  STREAMS,
  type TelemetryPoint,
} from '@telly/schemas';
import { v7 } from 'uuid';
import { InferenceError } from '../errors.ts';
import type { PredictInput } from '../input/predict-input.ts';
import { toSample } from '../input/predict-input.ts';
import type { PredictResult } from '../onnx/postprocess.ts';
import { HOUR_OF_DAY } from '../training/baseline.ts';
import { RESULT_SUBTOPIC, resultRecords } from './results.ts';
import type { Serving, ServingModels } from './serving.ts';

/** The durable consumer of the stream bindings. */
export const INFERENCE_PROCESSOR = 'inference';
/** `Telly-Protocol` of the result messages: the processor never runs a model on them. */
export const INFERENCE_PROTOCOL = INFERENCE_RESULT_PROTOCOL;
/** Values of one output kept in an `inference.completed` event. @default 100 */
export const MAX_EVENT_OUTPUT_VALUES = 100;

interface Item {
  m: ProcessorMessage;
  tenant: string;
  channel: string;
  thing: string;
  timeMs: number;
  input: PredictInput;
}

/** base64url (SenML `vd`) or base64 to bytes. */
const dataBytes = (vd: string) => new Uint8Array(Buffer.from(vd, 'base64url'));

/** What a binding feeds its model from one message's points, or undefined when they do not match. */
function inputOf(
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

/**
 * Models on streams: every device message of a bound channel (and thing) that holds a binding's
 * measurements runs the deployed version — the messages of a batch that go to one model in one
 * `session.run` (micro-batching). A result is published twice: as a SenML message on
 * `msg.<tenant>.<channel>.<thing>.inference.<model>` (telemetry points `<model>:label`, … that
 * every projection stores, and that a device subscribed to the channel receives) and as
 * `inference.completed` on EVENTS; a failure is `inference.failed` and never holds the stream.
 */
export function inferenceProcessor(options: { serving: ServingModels; publisher: Publisher; name?: string }) {
  const { serving, publisher } = options;
  return defineProcessor({
    name: options.name ?? INFERENCE_PROCESSOR,
    stream: STREAMS.MESSAGES.name,
    filter: ['msg.>'],
    async handle(messages) {
      const groups = new Map<string, { serving: Serving; items: Item[] }>();
      for (const m of messages) {
        if (m.headers?.get('Telly-Protocol') === INFERENCE_PROTOCOL) continue;
        const subject = parseSubject(m.subject);
        if (subject.kind !== 'msg') continue;
        const bound = serving.boundTo(subject.tenant, subject.channel, subject.thing);
        if (bound.length === 0) continue;
        let points: TelemetryPoint[];
        try {
          points = pointsOf(m as LogEntry);
        } catch {
          continue; // not telemetry: telemetry-pg dead-letters it, nothing runs on it
        }
        for (const b of bound) {
          const input = inputOf(b.serving, b.measurements, points);
          if (!input) continue;
          const group = groups.get(b.serving.model.id) ?? { serving: b.serving, items: [] };
          group.items.push({
            m,
            tenant: subject.tenant,
            channel: subject.channel,
            thing: subject.thing,
            timeMs: Math.min(...points.map((p) => p.timeMs)),
            input,
          });
          groups.set(b.serving.model.id, group);
        }
      }
      const publishes: Promise<unknown>[] = [];
      for (const { serving: s, items } of groups.values()) publishes.push(...(await runGroup(s, items)));
      await Promise.all(publishes);
    },
  });

  async function runGroup(s: Serving, items: Item[]): Promise<Promise<unknown>[]> {
    const started = performance.now();
    const samples = await Promise.allSettled(items.map((item) => toSample(s.loaded.info, item.input)));
    const ready = items.flatMap((item, i) => {
      const sample = samples[i];
      return sample?.status === 'fulfilled' ? [{ item, sample: sample.value }] : [];
    });
    const out: Promise<unknown>[] = [];
    items.forEach((item, i) => {
      const sample = samples[i];
      if (sample?.status === 'rejected') out.push(failed(s, item, reasonOf(sample.reason)));
    });
    if (ready.length === 0) return out;
    let results: PredictResult[];
    try {
      results = await s.loaded.run(ready.map((r) => r.sample));
    } catch (err) {
      for (const { item } of ready) out.push(failed(s, item, reasonOf(err)));
      return out;
    }
    const durationMs = (performance.now() - started) / ready.length;
    ready.forEach(({ item }, i) => {
      const result = results[i];
      if (result) out.push(...completed(s, item, result, durationMs));
    });
    return out;
  }

  function target(s: Serving, item: Item) {
    return {
      modelId: s.model.id,
      modelVersion: s.version.version,
      thingId: item.thing,
      channelId: item.channel,
      messageSeq: item.m.seq,
    };
  }

  function completed(s: Serving, item: Item, result: PredictResult, durationMs: number): Promise<unknown>[] {
    const id = `${s.model.id}:${s.version.version}:${item.m.seq}`;
    const records = resultRecords(s.model.name, result, item.timeMs / 1000);
    const outputs = Object.fromEntries(
      Object.entries(result.outputs).map(([k, v]) => [k, v.slice(0, MAX_EVENT_OUTPUT_VALUES)]),
    );
    const data: EventData<'inference.completed'> = {
      ...target(s, item),
      ...(result.predictions.length > 0 ? { predictions: result.predictions } : {}),
      outputs,
      durationMs,
    };
    const event = createEvent(
      'inference.completed',
      { tenantId: item.tenant, data, actor: 'system' },
      { id: v7(), now: Date.now() },
    );
    return [
      publisher.publish(
        messageSubject({
          tenant: item.tenant,
          channel: item.channel,
          thing: item.thing,
          subtopic: [RESULT_SUBTOPIC, s.model.name],
        }),
        encodeResolvedJson(records),
        {
          msgId: `inference:${id}`,
          headers: {
            'Content-Type': 'application/senml+json',
            'Telly-Protocol': INFERENCE_PROTOCOL,
            'Telly-Received': String(Date.now()),
            'Telly-Message-Id': `inference-${s.model.id}-${item.m.seq}`,
          },
        },
      ),
      publisher.publishEvent(event, { msgId: `completed:${id}` }),
    ];
  }

  function failed(s: Serving, item: Item, reason: string): Promise<unknown> {
    const event = createEvent(
      'inference.failed',
      {
        tenantId: item.tenant,
        data: { ...target(s, item), reason: reason.slice(0, 1024) || 'failed' },
        actor: 'system',
      },
      { id: v7(), now: Date.now() },
    );
    return publisher.publishEvent(event, {
      msgId: `failed:${s.model.id}:${s.version.version}:${item.m.seq}`,
    });
  }
}

function reasonOf(err: unknown): string {
  return err instanceof InferenceError
    ? `${err.code}: ${err.message}`
    : String((err as Error)?.message ?? err);
}
