import type { JetStreamManager } from '@nats-io/jetstream';
import { type Decider, RegistryError, type RegistryEvent, type RegistryStore } from '@telly/registry';
import {
  decodeEvent,
  type EventData,
  isEventOf,
  KAFKA_TOPIC_PATTERN,
  type KafkaSinkEventType,
  type KafkaSourceFormat,
  type KafkaThingFrom,
  STREAMS,
  SUBJECT_PREFIXES,
} from '@telly/schemas';
import { v7 } from 'uuid';
import type { Principal } from '../auth/principal.ts';
import { ApiError, invalid } from '../errors.ts';

/** Sources a tenant may have at once. @default 50 */
export const MAX_KAFKA_SOURCES = 50;
/** Sinks a tenant may have at once. @default 10 */
export const MAX_KAFKA_SINKS = 10;
/** Sources and sinks, deleted ones included, that a listing reads at most. */
const MAX_CATALOG_ENTRIES = 10_000;

export type KafkaSourceRow = EventData<'kafka.source.created'> & { createdAt: Date };
export type KafkaSinkRow = EventData<'kafka.sink.created'> & { createdAt: Date };

export interface KafkaSourceInput {
  topic: string;
  format: KafkaSourceFormat;
  thingFrom: KafkaThingFrom;
  header?: string | null | undefined;
  channelId: string;
}

export interface KafkaSinkInput {
  messagesTopic?: string | null | undefined;
  eventsTopic?: string | null | undefined;
  eventTypes?: readonly KafkaSinkEventType[] | null | undefined;
}

type KafkaCommand =
  | { type: 'create-source'; data: EventData<'kafka.source.created'> }
  | { type: 'create-sink'; data: EventData<'kafka.sink.created'> }
  | { type: 'delete'; id: string };
type KafkaState = { kind: 'none' | 'source' | 'sink'; deleted: boolean };

/** One Kafka source or sink: created once, deleted once (`reg.<tenant>.kafka.<id>`). */
const kafkaDecider: Decider<KafkaCommand, KafkaState> = {
  initialState: () => ({ kind: 'none', deleted: false }),
  evolve(state, event: RegistryEvent) {
    if (isEventOf(event, 'kafka.source.created')) return { kind: 'source', deleted: false };
    if (isEventOf(event, 'kafka.sink.created')) return { kind: 'sink', deleted: false };
    if (isEventOf(event, ['kafka.source.deleted', 'kafka.sink.deleted'])) return { ...state, deleted: true };
    return state;
  },
  decide(command, state) {
    if (command.type === 'delete') {
      if (state.kind === 'none' || state.deleted)
        throw new RegistryError('NOT_FOUND', `Kafka source or sink ${command.id} not found`);
      return state.kind === 'source'
        ? [{ type: 'kafka.source.deleted', data: { sourceId: command.id } }]
        : [{ type: 'kafka.sink.deleted', data: { sinkId: command.id } }];
    }
    if (state.kind !== 'none') throw new RegistryError('ALREADY_EXISTS', 'that id is taken');
    return command.type === 'create-source'
      ? [{ type: 'kafka.source.created', data: command.data }]
      : [{ type: 'kafka.sink.created', data: command.data }];
  },
};

const TOPIC = new RegExp(KAFKA_TOPIC_PATTERN);

function validTopic(field: string, topic: string): string {
  if (!TOPIC.test(topic)) {
    throw invalid(field, 'must be a Kafka topic name: 1 to 249 of A-Z a-z 0-9 . _ -');
  }
  if (topic === '.' || topic === '..') throw invalid(field, 'must not be . or ..');
  return topic;
}

/**
 * The tenant's Kafka sources and sinks: appended to REGISTRY with the registry's event store
 * (and its concurrency check), listed from the last entry of each `reg.<tenant>.kafka.<id>`. The
 * Kafka bridge follows the same entries and starts or stops what they describe.
 */
export class KafkaService {
  readonly #store: RegistryStore;
  readonly #jsm: JetStreamManager;
  readonly #channelExists: (tenantId: string, channelId: string) => Promise<boolean>;

  constructor(
    store: RegistryStore,
    jsm: JetStreamManager,
    channelExists: (tenantId: string, channelId: string) => Promise<boolean>,
  ) {
    this.#store = store;
    this.#jsm = jsm;
    this.#channelExists = channelExists;
  }

  /** The tenant's current sources and sinks, oldest first. */
  async list(tenantId: string): Promise<{ sources: KafkaSourceRow[]; sinks: KafkaSinkRow[] }> {
    const sources: KafkaSourceRow[] = [];
    const sinks: KafkaSinkRow[] = [];
    const entries = await this.#jsm.direct
      .getLastMessagesFor(STREAMS.REGISTRY.name, {
        multi_last: [`${SUBJECT_PREFIXES.REGISTRY}.${tenantId}.kafka.*`],
        batch: MAX_CATALOG_ENTRIES,
      })
      .catch((err: unknown) => {
        if ((err as { code?: unknown }).code === 404) return [];
        throw err;
      });
    try {
      for await (const m of entries) {
        const event = decodeEvent(m.data);
        if (event.tenantId !== tenantId) continue;
        const createdAt = new Date(event.time);
        if (isEventOf(event, 'kafka.source.created')) sources.push({ ...event.data, createdAt });
        else if (isEventOf(event, 'kafka.sink.created')) sinks.push({ ...event.data, createdAt });
      }
    } catch (err) {
      // a batch past the last match ends with 404 rather than an empty batch
      if ((err as { code?: unknown }).code !== 404) throw err;
    }
    const byTime = (a: { createdAt: Date }, b: { createdAt: Date }) =>
      a.createdAt.getTime() - b.createdAt.getTime();
    return { sources: sources.sort(byTime), sinks: sinks.sort(byTime) };
  }

  async createSource(p: Principal, input: KafkaSourceInput): Promise<KafkaSourceRow> {
    const topic = validTopic('input.topic', input.topic);
    const header = input.header?.trim() || undefined;
    if (input.thingFrom === 'header' && header !== undefined && !/^[\x21-\x7e]{1,128}$/.test(header)) {
      throw invalid('input.header', 'must be 1 to 128 printable ASCII characters');
    }
    if (input.thingFrom === 'key' && header !== undefined) {
      throw invalid('input.header', 'is only read with thingFrom: HEADER');
    }
    if (!(await this.#channelExists(p.tenantId, input.channelId))) {
      throw new ApiError('NOT_FOUND', `channel ${input.channelId} not found`);
    }
    const { sources, sinks } = await this.list(p.tenantId);
    if (sources.length >= MAX_KAFKA_SOURCES) {
      throw new ApiError('NOT_ALLOWED', `a tenant has at most ${MAX_KAFKA_SOURCES} Kafka sources`);
    }
    if (sources.some((s) => s.topic === topic)) {
      throw new ApiError('CONFLICT', `topic ${topic} is already a source of this tenant`);
    }
    if (sinks.some((s) => s.messagesTopic === topic || s.eventsTopic === topic)) {
      throw invalid('input.topic', `${topic} is a sink topic of this tenant: reading it back would loop`);
    }
    const data: EventData<'kafka.source.created'> = {
      sourceId: v7(),
      topic,
      format: input.format,
      thingFrom: input.thingFrom,
      ...(header !== undefined ? { header } : {}),
      channelId: input.channelId,
    };
    const { events } = await this.#store.handle(
      kafkaDecider,
      { tenantId: p.tenantId, kind: 'kafka', id: data.sourceId },
      { type: 'create-source', data },
      { actor: p.actor },
    );
    return { ...data, createdAt: new Date(events[0]?.time ?? Date.now()) };
  }

  async createSink(p: Principal, input: KafkaSinkInput): Promise<KafkaSinkRow> {
    const messagesTopic = input.messagesTopic
      ? validTopic('input.messagesTopic', input.messagesTopic)
      : undefined;
    const eventsTopic = input.eventsTopic ? validTopic('input.eventsTopic', input.eventsTopic) : undefined;
    if (!messagesTopic && !eventsTopic) throw invalid('input', 'name messagesTopic, eventsTopic or both');
    if (messagesTopic && messagesTopic === eventsTopic) {
      throw invalid('input.eventsTopic', 'must differ from messagesTopic');
    }
    const eventTypes = input.eventTypes?.length ? [...new Set(input.eventTypes)] : undefined;
    if (eventTypes && !eventsTopic) throw invalid('input.eventTypes', 'needs an eventsTopic');
    const { sources, sinks } = await this.list(p.tenantId);
    if (sinks.length >= MAX_KAFKA_SINKS) {
      throw new ApiError('NOT_ALLOWED', `a tenant has at most ${MAX_KAFKA_SINKS} Kafka sinks`);
    }
    for (const [field, topic] of [
      ['input.messagesTopic', messagesTopic],
      ['input.eventsTopic', eventsTopic],
    ] as const) {
      if (topic && sources.some((s) => s.topic === topic)) {
        throw invalid(field, `${topic} is a source topic of this tenant: writing it would loop`);
      }
    }
    const data: EventData<'kafka.sink.created'> = {
      sinkId: v7(),
      ...(messagesTopic ? { messagesTopic } : {}),
      ...(eventsTopic ? { eventsTopic } : {}),
      ...(eventTypes ? { eventTypes } : {}),
    };
    const { events } = await this.#store.handle(
      kafkaDecider,
      { tenantId: p.tenantId, kind: 'kafka', id: data.sinkId },
      { type: 'create-sink', data },
      { actor: p.actor },
    );
    return { ...data, createdAt: new Date(events[0]?.time ?? Date.now()) };
  }

  /** Deletes a source or a sink of the tenant; NOT_FOUND for any other id. */
  async delete(p: Principal, kind: 'source' | 'sink', id: string): Promise<void> {
    const { state } = await this.#store.load(kafkaDecider, { tenantId: p.tenantId, kind: 'kafka', id });
    if (state.kind !== kind || state.deleted)
      throw new ApiError('NOT_FOUND', `Kafka ${kind} ${id} not found`);
    await this.#store.handle(
      kafkaDecider,
      { tenantId: p.tenantId, kind: 'kafka', id },
      { type: 'delete', id },
      { actor: p.actor },
    );
  }
}
