/**
 * The JetStream streams, KV buckets and object store (docs/log.md), by name and subject set.
 * Stream configs (retention, replicas, storage) belong to deployment; only names and subjects
 * are contracts, so they live here.
 */

/** The first token of every Telly subject, per stream. */
export const SUBJECT_PREFIXES = {
  MESSAGES: 'msg',
  REGISTRY: 'reg',
  COMMANDS: 'cmd',
  EVENTS: 'evt',
  DLQ: 'dlq',
} as const;

/** A stream name and the subjects it captures. */
export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
}

/** Every stream Telly writes to. */
export const STREAMS = {
  /** Every accepted device message: `msg.<tenant>.<channel>.<thing>[.<subtopic>…]`. */
  MESSAGES: { name: 'MESSAGES', subjects: ['msg.>'] },
  /** Every registry state change: `reg.<tenant>.<kind>.<id>`; never expires. */
  REGISTRY: { name: 'REGISTRY', subjects: ['reg.>'] },
  /** Downlink commands: `cmd.<tenant>.<thing>`. */
  COMMANDS: { name: 'COMMANDS', subjects: ['cmd.>'] },
  /** Derived facts: `evt.<tenant>.<type>.<thing>`. */
  EVENTS: { name: 'EVENTS', subjects: ['evt.>'] },
  /** What a processor gave up on: `dlq.<processor>`. */
  DLQ: { name: 'DLQ', subjects: ['dlq.>'] },
} as const satisfies Record<string, StreamSpec>;

/** Name of a Telly stream. */
export type StreamName = (typeof STREAMS)[keyof typeof STREAMS]['name'];

/** KV buckets. `credentials` is a projection of REGISTRY keyed by thing id; `state` holds processor state. */
export const KV_BUCKETS = {
  CREDENTIALS: 'credentials',
  STATE: 'state',
} as const;

/** Object stores. `models` holds versioned ONNX files. */
export const OBJECT_STORES = {
  MODELS: 'models',
} as const;
