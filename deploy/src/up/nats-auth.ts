import { KV_BUCKETS, OBJECT_STORES, STREAMS } from '@telly/schemas';

/**
 * Every NATS user of Telly: one per component, and the operator's (`telly up`, the `telly`
 * CLI). What each may do is {@link NATS_GRANTS}, the one place the permissions are written;
 * the managed nats-server's config and `deploy/nats/telly-permissions.conf` are rendered
 * from it (nats-auth-config.ts).
 */
export const NATS_USERS = [
  'admin',
  'api',
  'registry',
  'commands',
  'telemetry-pg',
  'telemetry-influx',
  'devices',
  'rules',
  'inference',
  'mqtt',
  'http',
  'coap',
  'kafka',
] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The NATS user name of a Telly user, e.g. `telly-api`. */
export const natsUserName = (user: NatsUser): string => `telly-${user}`;

/** The inbox prefix a user's connection takes (`NATS_INBOX_PREFIX`): replies to it reach only that user. */
export const natsInboxPrefix = (user: NatsUser): string => `_INBOX_${natsUserName(user)}`;

/** A durable consumer a component owns: it creates, updates, fetches from and acks it. */
export interface Durable {
  stream: string;
  name: string;
}

/** What one user needs, in the terms of the log; {@link natsPermissions} turns it into subjects. */
export interface NatsGrant {
  /** What the user is for, as the docs' permission table says it. */
  role: string;
  /** Subjects it publishes: appends to the log (the stream capturing them acks on its inbox) or core NATS. */
  publish?: readonly string[];
  /** Core NATS subjects it subscribes to, besides its own inbox. */
  subscribe?: readonly string[];
  /** Its durable consumers: also the only `dlq.<name>` it may dead-letter to. */
  durables?: readonly Durable[];
  /** Streams it reads through ephemeral (ordered) consumers that it creates (by name) and deletes. */
  reads?: readonly string[];
  /**
   * Of those, the streams it also reads with several filters at once: nats.js creates such a
   * consumer with the name in the request body (`CONSUMER.CREATE.<stream>`), which JetStream
   * lets redefine any consumer of the stream, durables included. Only the API, which appends
   * the registry anyway.
   */
  readsManyFilters?: readonly string[];
  /** Streams it creates durable consumers on at run time, named then (a thing's command consumer). */
  consumes?: readonly string[];
  /** Streams it reads entries of by direct get (an entity's history). */
  directGets?: readonly string[];
  /** KV buckets it watches and reads (`read`) or also puts into and deletes from (`write`). */
  kv?: Readonly<Record<string, 'read' | 'write'>>;
  /** Object stores it reads (`read`) or also puts into and deletes from (`write`). */
  objects?: Readonly<Record<string, 'read' | 'write'>>;
  /** Other users' durables it may look at (`CONSUMER.INFO`, e.g. a projection's ack floor). */
  inspects?: readonly Durable[];
  /** Everything, on every subject: the operator's user (topology, migrations, replays). */
  all?: true;
}

/** Events a device bridge records: rejections, presence, command delivery and results. */
const BRIDGE_EVENTS = ['evt.*.rejected.*', 'evt.*.lifecycle.*', 'evt.*.command.*'];
const CREDENTIALS: Readonly<Record<string, 'read'>> = { [KV_BUCKETS.CREDENTIALS]: 'read' };

/** The durables of the processors (names as their packages define them; a test checks they agree). */
export const DURABLES = {
  registry: { stream: STREAMS.REGISTRY.name, name: 'registry' },
  commandsRequested: { stream: STREAMS.COMMANDS.name, name: 'commands-requested' },
  commandsStatus: { stream: STREAMS.EVENTS.name, name: 'commands-status' },
  commandsScheduled: { stream: STREAMS.COMMANDS.name, name: 'commands-scheduled' },
  telemetryPg: { stream: STREAMS.MESSAGES.name, name: 'telemetry-pg' },
  telemetryInflux: { stream: STREAMS.MESSAGES.name, name: 'telemetry-influx' },
  devicesEvents: { stream: STREAMS.EVENTS.name, name: 'devices-events' },
  devicesMessages: { stream: STREAMS.MESSAGES.name, name: 'devices-messages' },
  rulesDefinitions: { stream: STREAMS.REGISTRY.name, name: 'rules-definitions' },
  rulesThings: { stream: STREAMS.REGISTRY.name, name: 'rules-things' },
  rulesMessages: { stream: STREAMS.MESSAGES.name, name: 'rules-messages' },
  rulesAlerts: { stream: STREAMS.EVENTS.name, name: 'rules-alerts' },
  inference: { stream: STREAMS.MESSAGES.name, name: 'inference' },
} as const satisfies Record<string, Durable>;

/**
 * Who may do what on NATS. Only the API appends registry events (`reg.>`, through
 * `RegistryStore`) and commands (`cmd.>`); only the registry processor writes the `credentials`
 * bucket; device bridges append device messages and their events, and read credentials, never
 * REGISTRY; processors read their stream through their own durable only.
 */
export const NATS_GRANTS: Readonly<Record<NatsUser, NatsGrant>> = {
  admin: { role: '`telly up` and the `telly` CLI: topology, migrations, replays', all: true },
  api: {
    role: 'the GraphQL API: registry writes, commands, live telemetry, revocation notices, the DLQ, projection operations, jobs answered between its instances',
    // telly.jobs.>: an instance asks the others for a job it does not hold, and the one holding
    // it answers on the asker's inbox: an API inbox, never another user's
    publish: ['reg.>', 'cmd.>', 'telly.>', 'evt.*.alert.*', `${natsInboxPrefix('api')}.>`],
    subscribe: ['telly.>'],
    directGets: [STREAMS.REGISTRY.name, STREAMS.DLQ.name],
    reads: [STREAMS.MESSAGES.name, STREAMS.EVENTS.name, STREAMS.REGISTRY.name],
    readsManyFilters: [STREAMS.MESSAGES.name], // a thing's live telemetry: its subject and its subtopics
    objects: { [OBJECT_STORES.MODELS]: 'write' }, // uploaded model files
    inspects: [DURABLES.telemetryPg],
  },
  registry: {
    role: 'the registry processor: REGISTRY into the read model and the `credentials` bucket',
    durables: [DURABLES.registry],
    kv: { [KV_BUCKETS.CREDENTIALS]: 'write' },
  },
  commands: {
    role: 'the commands processor: the commands read model and expiry',
    publish: ['evt.*.command.*'],
    durables: [DURABLES.commandsRequested, DURABLES.commandsStatus, DURABLES.commandsScheduled],
  },
  'telemetry-pg': {
    role: 'the Postgres telemetry projection',
    durables: [DURABLES.telemetryPg],
  },
  'telemetry-influx': {
    role: 'the InfluxDB telemetry projection',
    durables: [DURABLES.telemetryInflux],
  },
  devices: {
    role: 'the device status projection: presence, last message, refused publishes',
    durables: [DURABLES.devicesEvents, DURABLES.devicesMessages],
  },
  rules: {
    role: 'the rules processor: rules over device messages, alerts, and their actions (commands, timed ones included)',
    publish: ['evt.*.alert.*', 'cmd.>'],
    durables: [DURABLES.rulesDefinitions, DURABLES.rulesThings, DURABLES.rulesMessages, DURABLES.rulesAlerts],
  },
  inference: {
    role: 'the inference processor: bound models on device messages and replays of a binding, results into MESSAGES and EVENTS',
    // a replay's progress, answered to the API (which may not publish results itself)
    publish: ['msg.>', 'evt.*.inference.*', 'telly.inference.replays.*'],
    // replays the API asks for, and their cancellations
    subscribe: ['telly.inference.replay', 'telly.inference.replays.*.cancel'],
    durables: [DURABLES.inference],
    // the models (reg.*.model.*); a replay's range of a channel's messages
    reads: [STREAMS.REGISTRY.name, STREAMS.MESSAGES.name],
    objects: { [OBJECT_STORES.MODELS]: 'read' },
  },
  mqtt: {
    role: 'the MQTT bridge: device messages, channel subscriptions, command downlink',
    publish: ['msg.>', ...BRIDGE_EVENTS],
    kv: CREDENTIALS,
    reads: [STREAMS.MESSAGES.name],
    consumes: [STREAMS.COMMANDS.name],
  },
  http: {
    role: 'the HTTP bridge: device messages',
    publish: ['msg.>', ...BRIDGE_EVENTS],
    kv: CREDENTIALS,
  },
  coap: {
    role: 'the CoAP bridge: device messages, channel observations, command downlink',
    publish: ['msg.>', ...BRIDGE_EVENTS],
    kv: CREDENTIALS,
    reads: [STREAMS.MESSAGES.name],
    consumes: [STREAMS.COMMANDS.name],
  },
  kafka: {
    role: 'the Kafka bridge: Kafka sources into MESSAGES, sinks of MESSAGES and EVENTS to Kafka',
    // its records' refusals; the dead letters of its sinks (durables named kafka-sink-<id>-<stream>)
    publish: [
      'msg.>',
      'evt.*.rejected.*',
      'dlq.*',
      `$JS.API.STREAM.INFO.${STREAMS.DLQ.name}`,
      // the sinks' durables, by name (the other components' durables stay denied)
      `$JS.API.CONSUMER.DURABLE.CREATE.${STREAMS.MESSAGES.name}.*`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${STREAMS.EVENTS.name}.*`,
    ],
    kv: CREDENTIALS,
    reads: [STREAMS.REGISTRY.name], // the sources and sinks (reg.*.kafka.*)
    consumes: [STREAMS.MESSAGES.name, STREAMS.EVENTS.name], // a durable per sink and stream, made at run time
    directGets: [STREAMS.DLQ.name],
  },
};

/** Subjects as nats-server permissions take them; deny wins over allow. */
export interface NatsPermissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[] };
}

const API = '$JS.API';
const kvStream = (bucket: string) => `KV_${bucket}`;

/**
 * A durable's own API calls: create/update (both request forms), info, fetch, ack; and its
 * dead letters: `dlq.<name>`, the DLQ's depths, its last entry (the `dlq:<name>` health check).
 */
function durableSubjects({ stream, name }: Durable): string[] {
  return [
    `dlq.${name}`,
    `${API}.STREAM.INFO.${STREAMS.DLQ.name}`,
    `${API}.DIRECT.GET.${STREAMS.DLQ.name}.dlq.${name}`,
    `${API}.CONSUMER.CREATE.${stream}.${name}`,
    `${API}.CONSUMER.CREATE.${stream}.${name}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.${name}`,
    `${API}.CONSUMER.INFO.${stream}.${name}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${name}`,
    `$JS.ACK.${stream}.${name}.>`,
  ];
}

/** Ephemeral consumers on a stream: created by name, fetched, deleted. */
function readSubjects(stream: string): string[] {
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
    `$JS.FC.${stream}.>`, // flow control of push consumers (a KV watch)
  ];
}

const directGetSubjects = (stream: string) => [
  `${API}.DIRECT.GET.${stream}`,
  `${API}.DIRECT.GET.${stream}.>`,
];

/** Another user's durable, on a stream where this user may create and use consumers by wildcard. */
function foreignDurableDenials({ stream, name }: Durable, inspect: boolean): string[] {
  return [
    `${API}.CONSUMER.CREATE.${stream}.${name}`,
    `${API}.CONSUMER.CREATE.${stream}.${name}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.${name}`,
    ...(inspect ? [] : [`${API}.CONSUMER.INFO.${stream}.${name}`]),
    `${API}.CONSUMER.MSG.NEXT.${stream}.${name}`,
    `${API}.CONSUMER.DELETE.${stream}.${name}`,
    `$JS.ACK.${stream}.${name}.>`,
  ];
}

const unique = (subjects: string[]) => [...new Set(subjects)];

/** The subjects a user may publish and subscribe to; `undefined` for the operator (everything). */
export function natsPermissions(user: NatsUser): NatsPermissions | undefined {
  const grant = NATS_GRANTS[user];
  if (grant.all) return undefined;
  const publish = [`${API}.INFO`, ...(grant.publish ?? [])];
  const wildcardStreams = new Set([...(grant.reads ?? []), ...(grant.consumes ?? [])]);
  for (const durable of grant.durables ?? []) publish.push(...durableSubjects(durable));
  for (const stream of grant.reads ?? []) publish.push(...readSubjects(stream));
  for (const stream of grant.readsManyFilters ?? []) publish.push(`${API}.CONSUMER.CREATE.${stream}`);
  for (const stream of grant.consumes ?? []) publish.push(...readSubjects(stream), `$JS.ACK.${stream}.>`);
  for (const stream of grant.directGets ?? []) publish.push(...directGetSubjects(stream));
  for (const durable of grant.inspects ?? [])
    publish.push(`${API}.CONSUMER.INFO.${durable.stream}.${durable.name}`);
  for (const [bucket, access] of Object.entries(grant.kv ?? {})) {
    wildcardStreams.add(kvStream(bucket));
    // a bucket opened without looking it up reads by STREAM.MSG.GET, one looked up by direct get
    const stream = kvStream(bucket);
    publish.push(...readSubjects(stream), ...directGetSubjects(stream), `${API}.STREAM.MSG.GET.${stream}`);
    if (access === 'write') publish.push(`$KV.${bucket}.>`);
  }
  for (const [store, access] of Object.entries(grant.objects ?? {})) {
    // metadata by direct get, chunks through an ordered consumer; a put publishes both and purges
    const stream = `OBJ_${store}`;
    wildcardStreams.add(stream);
    publish.push(...readSubjects(stream), ...directGetSubjects(stream), `${API}.STREAM.MSG.GET.${stream}`);
    if (access === 'write') publish.push(`$O.${store}.>`, `${API}.STREAM.PURGE.${stream}`);
  }
  const inspected = new Set((grant.inspects ?? []).map((d) => `${d.stream}.${d.name}`));
  const own = new Set((grant.durables ?? []).map((d) => `${d.stream}.${d.name}`));
  const deny: string[] = [];
  for (const durable of Object.values(DURABLES)) {
    const key = `${durable.stream}.${durable.name}`;
    if (own.has(key) || !wildcardStreams.has(durable.stream)) continue;
    deny.push(...foreignDurableDenials(durable, inspected.has(key)));
  }
  return {
    publish: { allow: unique(publish), deny: unique(deny) },
    subscribe: { allow: unique([`${natsInboxPrefix(user)}.>`, ...(grant.subscribe ?? [])]) },
  };
}
