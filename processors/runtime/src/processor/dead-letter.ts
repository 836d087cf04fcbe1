import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { dlqSubject } from '@telly/schemas';

/** Headers a DLQ entry carries besides the original message's. */
export const DLQ_HEADERS = {
  reason: 'Telly-DLQ-Reason',
  stream: 'Telly-DLQ-Stream',
  subject: 'Telly-DLQ-Subject',
  sequence: 'Telly-DLQ-Sequence',
  deliveries: 'Telly-DLQ-Deliveries',
} as const;

/**
 * Gives up on a message: publishes a copy to `dlq.<processor>` with its headers plus the
 * reason and where it came from, then terminates it so that JetStream never redelivers it. The
 * copy's `Nats-Msg-Id` is the processor and sequence, so an instance that dies between the two
 * steps and a successor that dead-letters the message again store one entry.
 */
export async function deadLetter(
  js: JetStreamClient,
  source: { processor: string; stream: string },
  m: JsMsg,
  reason: string,
  deliveries: number,
): Promise<void> {
  const h = natsHeaders();
  for (const [key, values] of m.headers ?? []) for (const value of values) h.append(key, value);
  h.set(DLQ_HEADERS.reason, reason.slice(0, 1_000));
  h.set(DLQ_HEADERS.stream, source.stream);
  h.set(DLQ_HEADERS.subject, m.subject);
  h.set(DLQ_HEADERS.sequence, String(m.seq));
  h.set(DLQ_HEADERS.deliveries, String(deliveries));
  await js.publish(dlqSubject(source.processor), m.data, {
    headers: h,
    msgID: `${source.processor}:${m.seq}`,
  });
  m.term(reason.slice(0, 200));
}
