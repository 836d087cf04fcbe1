import { KAFKA_SINK_EVENT_TYPES } from '@telly/schemas';
import { builder, principalOf } from '../builder.ts';
import type { KafkaSinkRow, KafkaSourceRow } from '../services/kafka-service.ts';

const KafkaSourceFormatEnum = builder.enumType('KafkaSourceFormat', {
  description: 'How a Kafka source reads record values.',
  values: {
    SENML_JSON: { value: 'senml-json', description: 'SenML JSON (RFC 8428), application/senml+json' },
    SENML_CBOR: { value: 'senml-cbor', description: 'SenML CBOR, application/senml+cbor' },
    JSON: { value: 'json', description: 'a plain JSON object, as HTTP and MQTT take it' },
  } as const,
});

const KafkaThingFromEnum = builder.enumType('KafkaThingFrom', {
  description: 'Where a Kafka source finds the id of the thing a record is from.',
  values: {
    KEY: { value: 'key', description: 'the record key' },
    HEADER: { value: 'header', description: 'a record header (`header`, default `telly-thing`)' },
  } as const,
});

const KafkaEventTypeEnum = builder.enumType('KafkaEventType', {
  description: 'Families of events a Kafka sink may stream.',
  values: Object.fromEntries(KAFKA_SINK_EVENT_TYPES.map((t) => [t.toUpperCase(), { value: t }])) as Record<
    Uppercase<(typeof KAFKA_SINK_EVENT_TYPES)[number]>,
    { value: (typeof KAFKA_SINK_EVENT_TYPES)[number] }
  >,
});

const KafkaSource = builder.objectRef<KafkaSourceRow>('KafkaSource').implement({
  description:
    'A Kafka topic read into the log as device messages of this tenant: each record goes through the same checks as every protocol (the thing exists in this tenant, is enabled and connected to the channel).',
  fields: (t) => ({
    id: t.id({ resolve: (s) => s.sourceId }),
    topic: t.exposeString('topic'),
    format: t.field({ type: KafkaSourceFormatEnum, resolve: (s) => s.format }),
    thingFrom: t.field({ type: KafkaThingFromEnum, resolve: (s) => s.thingFrom }),
    header: t.string({ nullable: true, resolve: (s) => s.header ?? null }),
    channelId: t.id({ resolve: (s) => s.channelId }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
  }),
});

const KafkaSink = builder.objectRef<KafkaSinkRow>('KafkaSink').implement({
  description:
    "The tenant's messages and events streamed to Kafka topics, keyed by thing id (in order per thing), Telly's headers as Kafka headers.",
  fields: (t) => ({
    id: t.id({ resolve: (s) => s.sinkId }),
    messagesTopic: t.string({ nullable: true, resolve: (s) => s.messagesTopic ?? null }),
    eventsTopic: t.string({ nullable: true, resolve: (s) => s.eventsTopic ?? null }),
    eventTypes: t.field({
      type: [KafkaEventTypeEnum],
      nullable: true,
      description: 'the families streamed to eventsTopic; all when null',
      resolve: (s) => (s.eventTypes ? [...s.eventTypes] : null) as never,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
  }),
});

const CreateKafkaSourceInput = builder.inputType('CreateKafkaSourceInput', {
  fields: (t) => ({
    topic: t.string({ required: true }),
    format: t.field({ type: KafkaSourceFormatEnum, required: true }),
    thingFrom: t.field({ type: KafkaThingFromEnum, required: true }),
    header: t.string({
      description: 'with thingFrom: HEADER, the header naming the thing (default telly-thing)',
    }),
    channelId: t.id({ required: true, description: 'the channel every record is published on' }),
  }),
});

const CreateKafkaSinkInput = builder.inputType('CreateKafkaSinkInput', {
  fields: (t) => ({
    messagesTopic: t.string({ description: "where the tenant's device messages go" }),
    eventsTopic: t.string({
      description: "where the tenant's events go (alerts, inference, command status, …)",
    }),
    eventTypes: t.field({
      type: [KafkaEventTypeEnum],
      description: 'only these families of events; all when omitted',
    }),
  }),
});

builder.queryFields((t) => ({
  kafkaSources: t.field({
    type: [KafkaSource],
    authScopes: { viewer: true },
    description: "This tenant's Kafka sources (at most 50).",
    resolve: async (_root, _args, ctx) => (await ctx.services.kafka.list(principalOf(ctx).tenantId)).sources,
  }),
  kafkaSinks: t.field({
    type: [KafkaSink],
    authScopes: { viewer: true },
    description: "This tenant's Kafka sinks (at most 10).",
    resolve: async (_root, _args, ctx) => (await ctx.services.kafka.list(principalOf(ctx).tenantId)).sinks,
  }),
}));

builder.mutationFields((t) => ({
  createKafkaSource: t.field({
    type: KafkaSource,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateKafkaSourceInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.kafka.createSource(principalOf(ctx), {
        topic: input.topic,
        format: input.format,
        thingFrom: input.thingFrom,
        header: input.header,
        channelId: input.channelId,
      }),
  }),
  deleteKafkaSource: t.boolean({
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.kafka.delete(principalOf(ctx), 'source', args.id);
      return true;
    },
  }),
  createKafkaSink: t.field({
    type: KafkaSink,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateKafkaSinkInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.kafka.createSink(principalOf(ctx), {
        messagesTopic: input.messagesTopic,
        eventsTopic: input.eventsTopic,
        eventTypes: input.eventTypes,
      }),
  }),
  deleteKafkaSink: t.boolean({
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.kafka.delete(principalOf(ctx), 'sink', args.id);
      return true;
    },
  }),
}));
