import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { KV_BUCKETS, OBJECT_STORES, STREAMS } from '@telly/schemas';
import { isStreamNotFound } from './nats-errors.ts';

const NS_PER_MS = 1_000_000;
const DAY_MS = 24 * 60 * 60 * 1_000;

/** Settings that differ between a one-machine deployment and a production cluster. */
export interface TopologyOptions {
  /** Copies of every stream: 1 for `telly up` on one machine, 3 in production. @default 1 */
  replicas?: 1 | 3 | 5;
  /** How long device messages are kept (the log replays can reach). @default 30 days */
  messagesMaxAgeMs?: number;
  /** Upper bound on the MESSAGES stream; the oldest messages go first. @default unlimited (-1) */
  messagesMaxBytes?: number;
  /** Largest single device message. @default 1 MiB */
  maxMessageBytes?: number;
  /** Window in which a repeated `Nats-Msg-Id` is dropped as a duplicate. @default 10 minutes */
  duplicateWindowMs?: number;
  /** How long EVENTS and DLQ entries are kept. @default 90 days */
  eventsMaxAgeMs?: number;
}

export const DEFAULT_TOPOLOGY = {
  replicas: 1,
  messagesMaxAgeMs: 30 * DAY_MS,
  messagesMaxBytes: -1,
  maxMessageBytes: 1024 * 1024,
  duplicateWindowMs: 10 * 60 * 1_000,
  eventsMaxAgeMs: 90 * DAY_MS,
} as const satisfies Required<TopologyOptions>;

/** The stream configs (docs/log.md), with the reasons for each setting beside it. */
export function streamConfigs(options: TopologyOptions = {}): (Partial<StreamConfig> & { name: string })[] {
  const o = { ...DEFAULT_TOPOLOGY, ...options };
  const common = {
    storage: StorageType.File, // the log is the truth: never memory
    num_replicas: o.replicas,
    duplicate_window: o.duplicateWindowMs * NS_PER_MS, // a retry with the same Nats-Msg-Id is a no-op
    allow_direct: true, // fast last-value reads (KV-style) served by any replica
  };
  return [
    {
      ...common,
      name: STREAMS.MESSAGES.name,
      subjects: [...STREAMS.MESSAGES.subjects],
      retention: RetentionPolicy.Limits, // every processor reads it; nothing is consumed away
      discard: DiscardPolicy.Old,
      max_age: o.messagesMaxAgeMs * NS_PER_MS,
      duplicate_window: Math.min(o.duplicateWindowMs, o.messagesMaxAgeMs) * NS_PER_MS, // JetStream: window ≤ max age
      max_bytes: o.messagesMaxBytes,
      max_msg_size: o.maxMessageBytes,
    },
    {
      ...common,
      name: STREAMS.REGISTRY.name,
      subjects: [...STREAMS.REGISTRY.subjects],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New, // refuse rather than forget registry history
      max_age: 0, // never expires: projections are rebuilt from it
      max_msg_size: 256 * 1024,
      deny_delete: true,
      deny_purge: true,
    },
    {
      ...common,
      name: STREAMS.COMMANDS.name,
      subjects: [...STREAMS.COMMANDS.subjects],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: 7 * DAY_MS * NS_PER_MS,
      allow_msg_ttl: true, // each command carries its own expiry (Nats-TTL, nats-server >= 2.11)
      // timed commands: the revert waits in the stream as a message schedule (ADR-51, >= 2.12)
      // that the server itself sends at its time, so no Telly process needs to be up then;
      // schedules need roll-ups (a cancellation replaces the schedule on its subject)
      allow_msg_schedules: true,
      allow_rollup_hdrs: true,
      max_msg_size: 64 * 1024,
    },
    {
      ...common,
      name: STREAMS.EVENTS.name,
      subjects: [...STREAMS.EVENTS.subjects],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: o.eventsMaxAgeMs * NS_PER_MS,
      max_msg_size: o.maxMessageBytes,
    },
    {
      ...common,
      name: STREAMS.DLQ.name,
      subjects: [...STREAMS.DLQ.subjects],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: o.eventsMaxAgeMs * NS_PER_MS,
      max_msg_size: o.maxMessageBytes + 64 * 1024, // the original message plus the reason
    },
  ];
}

/** What {@link ensureTopology} did, per stream/bucket. */
export type TopologyReport = Record<string, 'created' | 'updated' | 'unchanged'>;

function differs(want: Partial<StreamConfig>, have: StreamConfig): boolean {
  return Object.entries(want).some(([key, value]) => {
    const current = (have as unknown as Record<string, unknown>)[key];
    return JSON.stringify(current ?? null) !== JSON.stringify(value ?? null);
  });
}

/** Creates the named KV buckets / object stores that do not exist yet (their settings are fixed). */
async function ensureStores(
  report: TopologyReport,
  prefix: 'KV' | 'OBJ',
  names: string[],
  existing: AsyncIterable<{ bucket: string }>,
  create: (name: string) => Promise<unknown>,
): Promise<void> {
  const present = new Set<string>();
  for await (const status of existing) present.add(status.bucket);
  for (const name of names) {
    if (!present.has(name)) await create(name);
    report[`${prefix}_${name}`] = present.has(name) ? 'unchanged' : 'created';
  }
}

/**
 * Creates or updates the streams, KV buckets and object store (docs/log.md). Idempotent: run
 * it at every start; a second run changes nothing. Settings that JetStream cannot change in
 * place (storage, retention) make the update fail loudly rather than silently diverge.
 */
export async function ensureTopology(
  nc: NatsConnection,
  jsm: JetStreamManager,
  options: TopologyOptions = {},
): Promise<TopologyReport> {
  const report: TopologyReport = {};
  for (const config of streamConfigs(options)) {
    const name = config.name;
    const existing = await jsm.streams.info(name).catch((err: unknown) => {
      if (isStreamNotFound(err)) return undefined;
      throw err;
    });
    if (!existing) {
      await jsm.streams.add(config);
      report[name] = 'created';
    } else if (differs(config, existing.config)) {
      await jsm.streams.update(name, { ...existing.config, ...config });
      report[name] = 'updated';
    } else {
      report[name] = 'unchanged';
    }
  }
  const replicas = options.replicas ?? DEFAULT_TOPOLOGY.replicas;
  const storeOptions = { replicas, storage: StorageType.File };
  const kvm = new Kvm(nc);
  const objm = new Objm(nc);
  await ensureStores(report, 'KV', Object.values(KV_BUCKETS), kvm.list(), (name) =>
    kvm.create(name, { ...storeOptions, history: 1 }),
  );
  await ensureStores(report, 'OBJ', Object.values(OBJECT_STORES), objm.list(), (name) =>
    objm.create(name, storeOptions),
  );
  return report;
}
