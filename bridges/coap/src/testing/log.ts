// Test support: what the MESSAGES stream holds for a thing, read back with an ordered consumer.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { MESSAGE_HEADERS } from '@telly/bridge-core';
import { messageFilters, STREAMS } from '@telly/schemas';

export interface StoredMessage {
  subject: string;
  contentType: string;
  protocol: string;
  messageId: string;
  body: string;
}

/** Every MESSAGES entry of `thingId` in the tenant, oldest first. */
export async function storedMessages(
  nc: NatsConnection,
  tenantId: string,
  thingId: string,
): Promise<StoredMessage[]> {
  const filters = messageFilters({ tenant: tenantId, thing: thingId });
  const filter = filters.length === 1 ? (filters[0] as string) : [...filters];
  const jsm = await jetstreamManager(nc);
  let total = 0;
  for (const f of filters) {
    const info = await jsm.streams.info(STREAMS.MESSAGES.name, { subjects_filter: f });
    total += Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  }
  const out: StoredMessage[] = [];
  if (total === 0) return out;
  const consumer = await jetstream(nc).consumers.get(STREAMS.MESSAGES.name, { filter_subjects: filter });
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push({
      subject: m.subject,
      contentType: m.headers?.get(MESSAGE_HEADERS.CONTENT_TYPE) ?? '',
      protocol: m.headers?.get(MESSAGE_HEADERS.PROTOCOL) ?? '',
      messageId: m.headers?.get(MESSAGE_HEADERS.MESSAGE_ID) ?? '',
      body: m.string(),
    });
    if (out.length >= total || m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}
