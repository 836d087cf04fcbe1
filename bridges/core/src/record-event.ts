import type { Logger, Publisher } from '@telly/runtime';
import type { TellyEvent } from '@telly/schemas';

/**
 * Publishes a fact a bridge observed (a rejection, presence, a command status) best effort: a
 * device's session must not wait on, or fail with, the log. `msgId` deduplicates a fact that may
 * be observed twice (a retransmitted result).
 */
export function recordEvent(publisher: Publisher, logger: Logger, event: TellyEvent, msgId?: string): void {
  publisher
    .publishEvent(event, msgId === undefined ? {} : { msgId })
    .catch((err: unknown) => logger.warn({ err, type: event.type }, 'could not record an event'));
}
