import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { type LogEntry, messageFilters, STREAMS } from '@telly/schemas';
import { isConsumerNotFound } from './nats-errors.ts';
import { redriveTargetOf } from './processor/dead-letter-queue.ts';
import { logEntryOf } from './processor/message.ts';

export interface LogReaderOptions {
  /** The subjects read (e.g. one tenant's, `messageFilters({ tenant })`). @default every MESSAGES subject */
  filterSubjects?: readonly string[];
}

/**
 * Reads MESSAGES in log order from a position, in batches, through an ephemeral ordered
 * consumer: nothing durable is created and nothing is acked, so live consumers are untouched
 * (a projection's rebuild and verification, a rule's backtest read this way).
 * Copies `telly dlq redrive` republished (`Telly-Redrive-For`) are passed over: the original is
 * in the log, and a rebuild applies it.
 */
export class LogReader {
  readonly #js: JetStreamClient;
  readonly #startSeq: number;
  readonly #filterSubjects: readonly string[];
  #consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>> | undefined;
  #held: JsMsg[] = [];
  #lastSeq = 0;

  constructor(js: JetStreamClient, startSeq: number, options: LogReaderOptions = {}) {
    this.#js = js;
    this.#startSeq = Math.max(1, startSeq);
    this.#filterSubjects = options.filterSubjects ?? messageFilters();
  }

  /** Highest sequence returned so far (0 before the first). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Up to `max` entries after the last one returned, none above `untilSeq`. Returns fewer (or
   * none) once the head of the log or `untilSeq` is reached.
   */
  async next(max: number, untilSeq: number): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    while (out.length < max) {
      const held = this.#held.shift();
      if (held) {
        if (held.info.streamSequence > untilSeq) {
          this.#held.unshift(held);
          break;
        }
        this.#lastSeq = held.info.streamSequence;
        if (redriveTargetOf(held.headers) === undefined) out.push(logEntryOf(held));
        continue;
      }
      if (this.#lastSeq >= untilSeq) break;
      // never more than the range can hold: a fetch waits for its count until it expires (with
      // filterSubjects the range holds fewer, and the last fetch waits)
      const inRange = untilSeq - Math.max(this.#lastSeq, this.#startSeq - 1);
      const fetched = await (await this.#consumerOf()).fetch({
        max_messages: Math.max(1, Math.min(max - out.length, inRange, 10_000)),
        expires: 1_000,
      });
      for await (const m of fetched) this.#held.push(m);
      if (this.#held.length === 0) break; // the head of the log
    }
    return out;
  }

  async close(): Promise<void> {
    this.#held = [];
    await this.#consumer?.delete().catch(() => false);
  }

  async #consumerOf() {
    this.#consumer ??= await this.#js.consumers.get(STREAMS.MESSAGES.name, {
      filter_subjects: filterOf(this.#filterSubjects),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.#startSeq,
    });
    return this.#consumer;
  }
}

/**
 * One filter as a string: nats.js then creates the consumer on `CONSUMER.CREATE.<stream>.<name>.<filter>`,
 * which a component granted ephemeral reads may call; a list takes `CONSUMER.CREATE.<stream>`
 * (the name in the body), which can redefine any consumer and only the API is granted.
 */
const filterOf = (subjects: readonly string[]): string | string[] =>
  subjects.length === 1 && subjects[0] !== undefined ? subjects[0] : [...subjects];

/** The sequence of the first entry stored at or after `time` (one past the head when none). */
export async function seqAt(js: JetStreamClient, time: Date): Promise<number> {
  const { state } = await (await js.streams.get(STREAMS.MESSAGES.name)).info(false);
  // nothing stored since: answered at once, where a consumer's fetch would wait for its expiry
  if (state.messages === 0 || Date.parse(state.last_ts) < time.getTime()) return state.last_seq + 1;
  const consumer = await js.consumers.get(STREAMS.MESSAGES.name, {
    filter_subjects: filterOf(messageFilters()),
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: time.toISOString(),
  });
  try {
    for await (const m of await consumer.fetch({ max_messages: 1, expires: 1_000 }))
      return m.info.streamSequence;
    return (await logBounds(js)).lastSeq + 1;
  } finally {
    await consumer.delete().catch(() => false);
  }
}

/** The first and last sequence MESSAGES holds now (retention may have removed the oldest). */
export async function logBounds(js: JetStreamClient): Promise<{ firstSeq: number; lastSeq: number }> {
  const { state } = await (await js.streams.get(STREAMS.MESSAGES.name)).info(false);
  return { firstSeq: state.first_seq, lastSeq: state.last_seq };
}

/** Every entry at or below this is acked by the durable consumer `name` (undefined: no such consumer). */
export async function ackFloorOf(js: JetStreamClient, name: string): Promise<number | undefined> {
  let consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>>;
  try {
    consumer = await js.consumers.get(STREAMS.MESSAGES.name, name);
  } catch (err) {
    if (isConsumerNotFound(err)) return undefined;
    throw err;
  }
  return (await consumer.info(false)).ack_floor.stream_seq;
}
