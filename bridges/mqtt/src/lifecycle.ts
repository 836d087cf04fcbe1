import type { ThingCredential } from '@telly/registry';
import type { Logger, Publisher } from '@telly/runtime';
import { createEvent, type OfflineReason, type TellyEvent } from '@telly/schemas';
import { v7 } from 'uuid';

/** Records `thing.online` / `thing.offline` in EVENTS (best effort: never holds up a session). */
export class Lifecycle {
  readonly #publisher: Publisher;
  readonly #logger: Logger;

  constructor(publisher: Publisher, logger: Logger) {
    this.#publisher = publisher;
    this.#logger = logger;
  }

  online(thing: ThingCredential, remoteAddress: string): void {
    this.#record(
      createEvent(
        'thing.online',
        { tenantId: thing.tenantId, data: { thingId: thing.thingId, protocol: 'mqtt', remoteAddress } },
        { id: v7(), now: Date.now() },
      ),
    );
  }

  offline(thing: ThingCredential, remoteAddress: string, reason: OfflineReason): void {
    this.#record(
      createEvent(
        'thing.offline',
        {
          tenantId: thing.tenantId,
          data: { thingId: thing.thingId, protocol: 'mqtt', remoteAddress, reason },
        },
        { id: v7(), now: Date.now() },
      ),
    );
  }

  #record(event: TellyEvent): void {
    this.#publisher
      .publishEvent(event)
      .catch((err: unknown) =>
        this.#logger.warn({ err, type: event.type }, 'could not record a lifecycle event'),
      );
  }
}
