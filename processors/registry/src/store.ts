import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { toPublishError } from '@telly/runtime';
import {
  createEvent,
  decodeEvent,
  EVENT_TYPE_HEADER,
  encodeEvent,
  type RegistryKind,
  registrySubject,
  STREAMS,
} from '@telly/schemas';
import { v7 } from 'uuid';
import type { Decider, EventDraft, RegistryEvent } from './domain/decider.ts';
import { RegistryError } from './domain/errors.ts';

const READ_BATCH = 512;
/** How often a command is re-decided when another writer got in between. @default 3 */
export const DEFAULT_CONFLICT_RETRIES = 3;

export interface EntityRef {
  tenantId: string;
  kind: RegistryKind;
  id: string;
}

export interface EntityHistory {
  events: RegistryEvent[];
  /** Stream sequence of the entity's last event; 0 for a new entity. */
  lastSeq: number;
}

export interface HandleOptions {
  /** Who causes the events: a user id, `apikey:<id>` or `system`. */
  actor?: string | undefined;
  /** @default Date.now */
  now?: () => number;
}

export interface HandleResult {
  events: RegistryEvent[];
  /** Stream sequence of the last event appended (or the entity's last one when nothing changed). */
  seq: number;
}

/**
 * The REGISTRY stream as an event store: each entity's history is the subject
 * `reg.<tenant>.<kind>.<id>`, read with batched direct gets, and appended with optimistic
 * concurrency (`Nats-Expected-Last-Subject-Sequence`), so two writers never both decide on the
 * same state. Reading another tenant's id yields an empty history: isolation by construction.
 */
export class RegistryStore {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;

  constructor(js: JetStreamClient, jsm: JetStreamManager) {
    this.#js = js;
    this.#jsm = jsm;
  }

  async read(ref: EntityRef): Promise<EntityHistory> {
    const subject = registrySubject({ tenant: ref.tenantId, entity: ref.kind, id: ref.id });
    const events: RegistryEvent[] = [];
    let lastSeq = 0;
    for (;;) {
      let got = 0;
      const batch = await this.#jsm.direct.getBatch(STREAMS.REGISTRY.name, {
        seq: lastSeq + 1,
        next_by_subj: subject,
        batch: READ_BATCH,
      });
      try {
        for await (const message of batch) {
          got++;
          lastSeq = message.seq;
          events.push(decodeEvent(message.data) as RegistryEvent);
        }
      } catch (err) {
        // a batch past the subject's last message ends with 404 rather than an empty batch
        if ((err as { code?: unknown }).code !== 404) throw err;
      }
      if (got < READ_BATCH) return { events, lastSeq };
    }
  }

  /** Loads an entity's state by folding its history. */
  async load<C, S>(decider: Decider<C, S>, ref: EntityRef): Promise<{ state: S; lastSeq: number }> {
    const { events, lastSeq } = await this.read(ref);
    let state = decider.initialState();
    for (const event of events) state = decider.evolve(state, event);
    return { state, lastSeq };
  }

  /**
   * Appends events to one entity's subject, the first expecting `expectedSeq` as the subject's
   * last sequence. Throws RegistryError CONFLICT when someone else appended first. Returns the
   * last sequence written.
   */
  async append(ref: EntityRef, events: readonly RegistryEvent[], expectedSeq: number): Promise<number> {
    const subject = registrySubject({ tenant: ref.tenantId, entity: ref.kind, id: ref.id });
    let seq = expectedSeq;
    for (const event of events) {
      const h = headers();
      h.set(EVENT_TYPE_HEADER, event.type);
      try {
        const ack = await this.#js.publish(subject, encodeEvent(event), {
          msgID: event.id,
          headers: h,
          expect: { lastSubjectSequence: seq },
        });
        seq = ack.seq;
      } catch (err) {
        const error = toPublishError(err, subject);
        if (error.code === 'WRONG_LAST_SEQUENCE') {
          throw new RegistryError('CONFLICT', `${ref.kind} ${ref.id} changed concurrently`, { cause: error });
        }
        throw error;
      }
    }
    return seq;
  }

  /**
   * Load → decide → append, re-deciding on a concurrent change. `command` may be a function of
   * the attempt so the handler can reload what it passes in (e.g. another entity's state).
   */
  async handle<C, S>(
    decider: Decider<C, S>,
    ref: EntityRef,
    command: C | ((state: S) => C | Promise<C>),
    options: HandleOptions = {},
  ): Promise<HandleResult> {
    const now = options.now ?? Date.now;
    for (let attempt = 0; ; attempt++) {
      const { state, lastSeq } = await this.load(decider, ref);
      const resolved =
        typeof command === 'function' ? await (command as (s: S) => C | Promise<C>)(state) : command;
      const drafts = decider.decide(resolved, state);
      if (drafts.length === 0) return { events: [], seq: lastSeq };
      const events = drafts.map((draft) => this.stamp(ref.tenantId, draft, options.actor, now()));
      try {
        return { events, seq: await this.append(ref, events, lastSeq) };
      } catch (err) {
        if (
          !(err instanceof RegistryError && err.code === 'CONFLICT') ||
          attempt >= DEFAULT_CONFLICT_RETRIES
        ) {
          throw err;
        }
      }
    }
  }

  /** Makes a validated event out of a draft. */
  stamp(tenantId: string, draft: EventDraft, actor: string | undefined, now: number): RegistryEvent {
    return createEvent(
      draft.type,
      { tenantId, data: draft.data as never, actor },
      { id: v7(), now },
    ) as RegistryEvent;
  }
}
