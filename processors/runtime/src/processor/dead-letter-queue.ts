import type { JsMsg } from '@nats-io/jetstream';
import { type JetStreamManager, jetstream, jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { dlqSubject, errorPredicate, parseSubject, STREAMS, TellyError } from '@telly/schemas';
import type { CheckResult } from '../health.ts';
import { isNoMessage } from '../nats-errors.ts';
import { DLQ_HEADERS } from './dead-letter.ts';

/**
 * Headers of a redriven message: which processor it is for (the others skip it, since they
 * applied the original already) and which DLQ entry and original position it re-sends.
 */
export const REDRIVE_HEADERS = {
  for: 'Telly-Redrive-For',
  of: 'Telly-Redrive-Of',
} as const;

/**
 * Streams whose entries redrive never republishes: a registry event is the history the deciders
 * fold and a command is delivered to the device by the bridges, so a second copy would be a
 * second fact or a second command. Fix the processor and rebuild its projection instead.
 */
const NOT_REDRIVABLE: ReadonlySet<string> = new Set([STREAMS.REGISTRY.name, STREAMS.COMMANDS.name]);

/** Entries returned by one {@link DeadLetterQueue.list} at most. */
export const MAX_DEAD_LETTERS_PAGE = 500;

export type DeadLetterErrorCode = 'NOT_FOUND' | 'NOT_REDRIVABLE';

/** A DLQ entry that is not there, or that redrive must not republish. */
export class DeadLetterError extends TellyError<DeadLetterErrorCode> {}

export const isDeadLetterError = errorPredicate(DeadLetterError);

/** One message a processor gave up on, as `dlq.<processor>` holds it. */
export interface DeadLetter {
  /** The processor that gave up on it. */
  processor: string;
  /** Position in the DLQ stream: what `show`, `redrive` and `purge` name. */
  seq: number;
  /** Where the original came from: stream, subject and sequence there. */
  stream: string;
  subject: string;
  originalSeq: number;
  /** The last error, as the processor saw it. */
  reason: string;
  /** Deliveries spent before it was given up on. */
  deliveries: number;
  /** When it was dead-lettered. */
  time: Date;
  /** The original message's headers. */
  headers: Record<string, string[]>;
  data: Uint8Array;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  /** More entries follow the last one (pass its `seq` as `after`). */
  hasNextPage: boolean;
}

/** The DLQ entries of each processor that has any. */
export type DeadLetterDepths = Record<string, number>;

const DLQ = STREAMS.DLQ.name;

/**
 * The dead-letter queue as operators see it (`telly dlq`, the `deadLetters` query, the DLQ
 * health checks): entries listed oldest first, shown, redriven to the processor that gave up
 * on them, and purged.
 */
export class DeadLetterQueue {
  readonly #nc: NatsConnection;
  #jsm: Promise<JetStreamManager> | undefined;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  #manager(): Promise<JetStreamManager> {
    this.#jsm ??= jetstreamManager(this.#nc);
    return this.#jsm;
  }

  /** Entries per processor, for the processors that have any. */
  async depths(processor?: string): Promise<DeadLetterDepths> {
    const jsm = await this.#manager();
    const filter = processor === undefined ? `${STREAMS.DLQ.subjects[0]}` : dlqSubject(processor);
    const info = await jsm.streams.info(DLQ, { subjects_filter: filter });
    const depths: DeadLetterDepths = {};
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
      depths[processorOf(subject)] = count;
    }
    return depths;
  }

  /** When `processor` last dead-lettered a message still in the queue; undefined when none is. */
  async lastEntryAt(processor: string): Promise<Date | undefined> {
    const jsm = await this.#manager();
    const last = await jsm.direct.getMessage(DLQ, { last_by_subj: dlqSubject(processor) });
    return last ? last.time : undefined;
  }

  /** Entries oldest first, after DLQ sequence `after`, of one processor or of all. */
  async list(options: { processor?: string; after?: number; first?: number } = {}): Promise<DeadLetterPage> {
    const first = Math.max(1, Math.min(options.first ?? 50, MAX_DEAD_LETTERS_PAGE));
    const jsm = await this.#manager();
    const filter = options.processor === undefined ? STREAMS.DLQ.subjects[0] : dlqSubject(options.processor);
    const items: DeadLetter[] = [];
    let pending = 0;
    const batch = await jsm.direct.getBatch(DLQ, {
      seq: (options.after ?? 0) + 1,
      next_by_subj: filter,
      batch: first,
    });
    try {
      for await (const m of batch) {
        items.push(deadLetterOf(m));
        pending = m.pending;
      }
    } catch (err) {
      if (!isNoMessage(err)) throw err; // none (left) after `after`
    }
    return { items, hasNextPage: pending > 0 };
  }

  /** The entry at DLQ sequence `seq`; NOT_FOUND when there is none (any more). */
  async get(seq: number): Promise<DeadLetter> {
    const jsm = await this.#manager();
    const m = Number.isSafeInteger(seq) && seq > 0 ? await jsm.direct.getMessage(DLQ, { seq }) : null;
    if (!m) throw new DeadLetterError('NOT_FOUND', `no DLQ entry ${seq} (purged or redriven already?)`);
    return deadLetterOf(m);
  }

  /**
   * Republishes the entry's original message to its original subject, for its processor only
   * (the others skip it: {@link REDRIVE_HEADERS}), then removes the entry. The copy has a new
   * `Nats-Msg-Id`, one per entry, so the stream does not drop it as a duplicate of the original
   * while a retried redrive of the same entry is stored once; the processor's checkpoint treats it
   * as the new message it is. Should it fail again, it is dead-lettered again as a new entry.
   */
  async redrive(seq: number): Promise<{ entry: DeadLetter; stream: string; seq: number }> {
    const entry = await this.get(seq);
    if (NOT_REDRIVABLE.has(entry.stream)) {
      throw new DeadLetterError(
        'NOT_REDRIVABLE',
        `DLQ entry ${seq} is from ${entry.stream}, which redrive never republishes (a copy would be a second fact or command): fix ${entry.processor} and rebuild its projection, then purge the entry`,
      );
    }
    const h = natsHeaders();
    for (const [key, values] of Object.entries(entry.headers)) {
      for (const value of values) h.append(key, value);
    }
    h.set(REDRIVE_HEADERS.for, entry.processor);
    h.set(REDRIVE_HEADERS.of, `${entry.stream}:${entry.originalSeq}`);
    const ack = await jetstream(this.#nc).publish(entry.subject, entry.data, {
      headers: h,
      msgID: `redrive:${entry.processor}:${entry.seq}`,
    });
    await this.#delete(seq);
    return { entry, stream: ack.stream, seq: ack.seq };
  }

  /** Removes one entry; NOT_FOUND when it is not there. */
  async remove(seq: number): Promise<void> {
    await this.get(seq);
    await this.#delete(seq);
  }

  /** Removes every entry of `processor`, or of every processor; returns how many went. */
  async purge(processor?: string): Promise<number> {
    const jsm = await this.#manager();
    const { purged } = await jsm.streams.purge(
      DLQ,
      processor === undefined ? undefined : { filter: dlqSubject(processor) },
    );
    return purged;
  }

  async #delete(seq: number): Promise<void> {
    const jsm = await this.#manager();
    await jsm.streams.deleteMessage(DLQ, seq, false);
  }
}

/**
 * Headers that are not the original message's: the DLQ's own, and the `Nats-*` ones the server
 * adds (the message id, and what a direct get reports: stream, subject, sequence, time).
 */
const DLQ_HEADER_NAMES = new Set<string>(Object.values(DLQ_HEADERS).map((h) => h.toLowerCase()));
const isOwnHeader = (key: string): boolean =>
  key.toLowerCase().startsWith('nats-') || DLQ_HEADER_NAMES.has(key.toLowerCase());

/** `dlq.<processor>` → the processor. */
function processorOf(subject: string): string {
  const parsed = parseSubject(subject);
  return parsed.kind === 'dlq' ? parsed.processor : subject;
}

function deadLetterOf(m: StoredMsg): DeadLetter {
  const h = m.header;
  const headers: Record<string, string[]> = {};
  for (const [key, values] of h ?? []) {
    if (!isOwnHeader(key)) headers[key] = values;
  }
  return {
    processor: processorOf(m.subject),
    seq: m.seq,
    stream: h?.get(DLQ_HEADERS.stream) ?? '',
    subject: h?.get(DLQ_HEADERS.subject) ?? '',
    originalSeq: Number(h?.get(DLQ_HEADERS.sequence) ?? 0),
    reason: h?.get(DLQ_HEADERS.reason) ?? '',
    deliveries: Number(h?.get(DLQ_HEADERS.deliveries) ?? 0),
    time: m.time,
    headers,
    data: m.data,
  };
}

/**
 * Acks, without handing them to the processor, the redriven messages of a batch that are meant
 * for another processor (it applied the original already); returns the rest, in order.
 */
export function withoutOthersRedrives(batch: JsMsg[], processor: string): JsMsg[] {
  const mine: JsMsg[] = [];
  for (const m of batch) {
    const target = redriveTargetOf(m.headers);
    if (target === undefined || target === processor) mine.push(m);
    else m.ack();
  }
  return mine;
}

/** The processor a redriven message is for; undefined for every other message. */
export function redriveTargetOf(headers: MsgHdrs | undefined): string | undefined {
  const target = headers?.get(REDRIVE_HEADERS.for);
  return target ? target : undefined;
}

/**
 * How long after a processor dead-lettered a message its `dlq:<processor>` check says
 * `degraded`. @default 15 minutes
 */
export const DLQ_DEGRADED_WINDOW_MS = 15 * 60_000;

/**
 * A processor's `dlq:<processor>` check: `degraded` while its newest DLQ entry is younger than
 * `windowMs` (the queue grew lately: something is being lost to the projection), `up` otherwise,
 * with the depth either way. `onDepth` sees the depth (the metric).
 */
export function deadLetterCheck(
  queue: DeadLetterQueue,
  processor: string,
  onDepth: (depth: number) => void,
  windowMs = DLQ_DEGRADED_WINDOW_MS,
): () => Promise<CheckResult> {
  return async () => {
    const depth = (await queue.depths(processor))[processor] ?? 0;
    onDepth(depth);
    if (depth === 0) return { status: 'up', detail: { depth } };
    const last = await queue.lastEntryAt(processor);
    const recent = last !== undefined && Date.now() - last.getTime() < windowMs;
    return {
      status: recent ? 'degraded' : 'up',
      detail: {
        depth,
        lastEntryAt: last?.toISOString(),
        ...(recent
          ? {
              why: `dead-lettered a message in the last ${Math.round(windowMs / 60_000)} min: telly dlq list`,
            }
          : {}),
      },
    };
  };
}
