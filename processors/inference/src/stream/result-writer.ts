import type { Publisher } from '@telly/runtime';
import {
  createEvent,
  type EventData,
  encodeResolvedJson,
  INFERENCE_RESULT_PROTOCOL,
  messageSubject,
} from '@telly/schemas';
import { v7 } from 'uuid';
import { InferenceError } from '../errors.ts';
import { toSample } from '../input/predict-input.ts';
import type { PredictResult } from '../onnx/postprocess.ts';
import type { BoundItem } from './bound-input.ts';
import { RESULT_SUBTOPIC, resultRecords } from './results.ts';
import type { Serving } from './serving.ts';

/** Values of one output kept in an `inference.completed` event. @default 100 */
export const MAX_EVENT_OUTPUT_VALUES = 100;

/**
 * The `Nats-Msg-Id` of a source entry's result under a model version: the result message's is
 * `inference:<id>`, its events' `completed:<id>` and `failed:<id>`. Live and a replay derive
 * the same, so the log keeps one of each (a replay also skips entries whose result it finds).
 */
export const resultId = (modelId: string, version: number, seq: number) => `${modelId}:${version}:${seq}`;

/** The `Nats-Msg-Id` prefix of a model version's result messages. */
export const resultMessageIdPrefix = (modelId: string, version: number) => `inference:${modelId}:${version}:`;

/** Counts of what one run published. */
export interface WriteCounts {
  completed: number;
  failed: number;
}

/**
 * Runs a model version on items (one `session.run` for those whose input reads) and publishes
 * each result: a SenML message on `msg.<tenant>.<channel>.<thing>.inference.<model>` and
 * `inference.completed` on EVENTS, or `inference.failed`. Returns once all are acked.
 */
export async function runAndPublish(
  publisher: Publisher,
  s: Serving,
  items: BoundItem[],
): Promise<WriteCounts> {
  const started = performance.now();
  const samples = await Promise.allSettled(items.map((item) => toSample(s.loaded.info, item.input)));
  const ready = items.flatMap((item, i) => {
    const sample = samples[i];
    return sample?.status === 'fulfilled' ? [{ item, sample: sample.value }] : [];
  });
  const out: Promise<unknown>[] = [];
  const counts: WriteCounts = { completed: 0, failed: 0 };
  const fail = (item: BoundItem, reason: string) => {
    counts.failed++;
    out.push(failed(publisher, s, item, reason));
  };
  items.forEach((item, i) => {
    const sample = samples[i];
    if (sample?.status === 'rejected') fail(item, reasonOf(sample.reason));
  });
  if (ready.length > 0) {
    let results: PredictResult[] | undefined;
    try {
      results = await s.loaded.run(ready.map((r) => r.sample));
    } catch (err) {
      for (const { item } of ready) fail(item, reasonOf(err));
    }
    const durationMs = (performance.now() - started) / ready.length;
    ready.forEach(({ item }, i) => {
      const result = results?.[i];
      if (!result) return;
      counts.completed++;
      out.push(...completed(publisher, s, item, result, durationMs));
    });
  }
  await Promise.all(out);
  return counts;
}

function target(s: Serving, item: BoundItem) {
  return {
    modelId: s.model.id,
    modelVersion: s.version.version,
    thingId: item.thing,
    channelId: item.channel,
    messageSeq: item.entry.seq,
  };
}

function completed(
  publisher: Publisher,
  s: Serving,
  item: BoundItem,
  result: PredictResult,
  durationMs: number,
): Promise<unknown>[] {
  const id = resultId(s.model.id, s.version.version, item.entry.seq);
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
          'Telly-Protocol': INFERENCE_RESULT_PROTOCOL,
          'Telly-Received': String(Date.now()),
          'Telly-Message-Id': `inference-${s.model.id}-${item.entry.seq}`,
        },
      },
    ),
    publisher.publishEvent(event, { msgId: `completed:${id}` }),
  ];
}

function failed(publisher: Publisher, s: Serving, item: BoundItem, reason: string): Promise<unknown> {
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
    msgId: `failed:${resultId(s.model.id, s.version.version, item.entry.seq)}`,
  });
}

function reasonOf(err: unknown): string {
  return err instanceof InferenceError
    ? `${err.code}: ${err.message}`
    : String((err as Error)?.message ?? err);
}
