import { defineProcessor, type Publisher } from '@telly/runtime';
import { INFERENCE_RESULT_PROTOCOL, STREAMS } from '@telly/schemas';
import { type BoundItem, boundItem, deviceReading } from './bound-input.ts';
import { runAndPublish } from './result-writer.ts';
import type { Serving, ServingModels } from './serving.ts';

/** The durable consumer of the stream bindings. */
export const INFERENCE_PROCESSOR = 'inference';
/** `Telly-Protocol` of the result messages: the processor never runs a model on them. */
export const INFERENCE_PROTOCOL = INFERENCE_RESULT_PROTOCOL;

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
    // what has arrived after 20 ms: a fetch would wait for 256 messages (a quarter second at
    // 1,000 msg/s, a second at a camera's rate) before the model saw any, and no wait at all
    // would make a batch, with its acks, of every message or two
    batch: { continuous: true, maxMessages: 256, lingerMs: 20 },
    async handle(messages) {
      const groups = new Map<string, { serving: Serving; items: BoundItem[] }>();
      for (const m of messages) {
        let bindings: ReturnType<ServingModels['boundTo']> = [];
        const reading = deviceReading(m, INFERENCE_PROTOCOL, (subject) => {
          bindings = serving.boundTo(subject.tenant, subject.channel, subject.thing);
          return bindings.length > 0;
        });
        if (!reading) continue;
        for (const b of bindings) {
          const item = boundItem(b.serving, b.measurements, m, reading);
          if (!item) continue;
          const group = groups.get(b.serving.model.id) ?? { serving: b.serving, items: [] };
          group.items.push(item);
          groups.set(b.serving.model.id, group);
        }
      }
      await Promise.all([...groups.values()].map((g) => runAndPublish(publisher, g.serving, g.items)));
    },
  });
}
