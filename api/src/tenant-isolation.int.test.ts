// Tenant isolation: the owner of a second tenant (B) runs every query, mutation and subscription of the
// schema on the first tenant's (A) ids and gets nothing: null, an empty list, NOT_FOUND or an input
// error — exactly what an id that exists nowhere gets — and changes nothing of A's. The operations are
// enumerated from the schema, so a new field is attacked as soon as it exists.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { referenceModel } from '@telly/inference/testing';
import { readCredential } from '@telly/registry';
import { Publisher } from '@telly/runtime';
import { createEvent, type ThingCredential } from '@telly/schemas';
import {
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  validate,
} from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { v7 } from 'uuid';
import { keyHash } from './auth/secrets.ts';
import { schema } from './schema/index.ts';
import {
  type GraphqlResponse,
  gql,
  ok,
  publishReading,
  type Signed,
  type Stack,
  signup,
  startStack,
  subscribeSse as subscribe,
} from './testing/stack.ts';

const KINDS = [
  'tenant',
  'user',
  'thing',
  'channel',
  'apikey',
  'model',
  'job',
  'rule',
  'alert',
  'command',
  'kafka',
] as const;
type Kind = (typeof KINDS)[number];
type Operation = 'query' | 'mutation' | 'subscription';

/**
 * The only fields not attacked, with why. They are the auth entry points: they take no ids and act on
 * no existing tenant's data by id — signup creates a new tenant, login proves a password, refresh and
 * logout spend a refresh token (a secret B cannot know, unlike an id). Everything else, including any
 * field added later, is attacked.
 */
const SKIPPED: ReadonlyMap<string, string> = new Map([
  ['Mutation.signup', 'creates a new tenant from an email and password; takes no ids'],
  ['Mutation.login', 'authenticates an email and password; takes no ids'],
  ['Mutation.refresh', 'spends a refresh token (a secret, not an id)'],
  ['Mutation.logout', 'spends a refresh token (a secret, not an id)'],
]);

/**
 * Platform operations act on every tenant's data and belong to the operator tenant's admins alone
 * (`TELLY_OPERATOR_TENANT`, unset here): to B they answer FORBIDDEN, which is allowed for them
 * only, and they are still attacked, so A's ids must get exactly what unknown ids get.
 */
const OPERATOR_ONLY = new Set([
  'Mutation.replayProjection',
  'Mutation.verifyProjection',
  'Query.projectionJob',
  'Subscription.projectionJob',
  'Query.deadLetters',
]);

/** Fields that must be among the attacked ones, so the suite cannot silently attack nothing. */
const MUST_COVER = [
  'Query.thing',
  'Query.things',
  'Query.channel',
  'Query.channels',
  'Mutation.connect',
  'Mutation.deleteThing',
  'Mutation.rotateThingKey',
  'Mutation.updateChannel',
  'Mutation.setUserRole',
  'Mutation.revokeApiKey',
  'Mutation.setThingRateLimit',
  'Query.model',
  'Query.predictJob',
  'Mutation.deployModel',
  'Mutation.bindModel',
  'Mutation.trainModel',
  'Mutation.predict',
  'Mutation.cancelPredictJob',
  'Subscription.predictJob',
  'Mutation.acknowledgeAlert',
  'Mutation.clearAlert',
  'Mutation.backtestRule',
  'Query.backtestJob',
  'Mutation.cancelBacktestJob',
  'Subscription.backtestJob',
  'Mutation.replayBinding',
  'Query.replayJob',
  'Mutation.cancelReplayJob',
  'Subscription.replayJob',
];

/** Error codes that are never an acceptable answer to B (an owner) probing A's ids. */
const DISALLOWED_CODES = new Set([
  'FORBIDDEN', // B is owner: a role can never be what hides A's data
  'UNAUTHENTICATED', // B's token must keep working: the probe would prove nothing
  'INTERNAL_SERVER_ERROR', // e.g. a write that went through and then was not found in B's read model
  'GRAPHQL_VALIDATION_FAILED', // the generated operation is wrong: the field was not really probed
  'GRAPHQL_PARSE_FAILED',
  'BAD_USER_INPUT',
]);

/** Variants of one field at most (each also runs its control): keeps the suite to a few seconds. */
const MAX_VARIANTS_PER_FIELD = 60;
/** Input objects are followed this deep looking for ID fields. */
const MAX_INPUT_DEPTH = 4;
/** Object fields are selected this deep below the root field (connections reach `nodes { … }`). */
const SELECTION_DEPTH = 2;
/** How long subscription probes listen before and after A changes its things and channels. */
const SUBSCRIPTION_WINDOW_MS = 600;

const PASSWORD = 'correct horse battery staple';
/** Passwords the probes send: never B's own, so changePassword cannot end B's sessions. */
const PROBE_PASSWORD = 'tangerine lighthouse 4471 hums quietly';

// --- the schema, enumerated

/** An ID-typed place in a field's arguments: the argument itself or a field of an input object in it. */
interface Slot {
  /** Argument name, then input-object field names: ['input', 'channelIds']. */
  path: string[];
  /** A list of ids ([ID!]): the variants send one id, or all of A's ids of the kind. */
  list: boolean;
  /** What the id names, guessed from its name (`thingId`, `channelIds`) or the field's (`deleteThing(id)`). */
  kind: Kind | undefined;
}

interface Probe {
  operation: Operation;
  /** `Query.thing` */
  coordinate: string;
  field: GraphQLField<unknown, unknown>;
  slots: Slot[];
}

function enumerate(s: GraphQLSchema): { probes: Probe[]; skipped: string[] } {
  const probes: Probe[] = [];
  const skipped: string[] = [];
  const roots = [
    ['query', s.getQueryType()],
    ['mutation', s.getMutationType()],
    ['subscription', s.getSubscriptionType()],
  ] as const;
  for (const [operation, type] of roots) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      if (SKIPPED.has(coordinate)) {
        skipped.push(coordinate);
        continue;
      }
      const slots = field.args.flatMap((arg) => slotsOf(arg.type, [arg.name], field.name, 0));
      probes.push({ operation, coordinate, field, slots });
    }
  }
  return { probes, skipped };
}

function slotsOf(type: GraphQLInputType, path: string[], fieldName: string, depth: number): Slot[] {
  const named = getNamedType(type);
  if (named.name === 'ID') {
    const inner = isNonNullType(type) ? type.ofType : type;
    return [{ path, list: isListType(inner), kind: kindOf(path[path.length - 1] ?? '', fieldName) }];
  }
  if (isInputObjectType(named) && depth < MAX_INPUT_DEPTH) {
    return Object.values(named.getFields()).flatMap((f) =>
      slotsOf(f.type, [...path, f.name], fieldName, depth + 1),
    );
  }
  return [];
}

function kindOf(slotName: string, fieldName: string): Kind | undefined {
  const name = (/^ids?$/i.test(slotName) ? fieldName : slotName).toLowerCase();
  if (name.includes('kafka')) return 'kafka';
  if (name.includes('apikey')) return 'apikey';
  if (name.includes('job')) return 'job';
  if (name.includes('model') || name.includes('binding') || name === 'predict') return 'model';
  if (name.includes('rule')) return 'rule';
  if (name.includes('alert')) return 'alert';
  if (name.includes('command')) return 'command';
  if (name.includes('thing') || name.includes('bootstrap')) return 'thing';
  if (name.includes('channel')) return 'channel';
  if (name.includes('user')) return 'user';
  if (name.includes('tenant')) return 'tenant';
  return undefined;
}

// --- operations, built generically

const OMIT = Symbol('omit');
/** Slot path (`input.channelIds`) → the id, or ids for a list slot, sent there. */
type Assignment = ReadonlyMap<string, string | readonly string[]>;

let probeCounter = 0;

/** Plausible values for required non-id inputs: valid enough to reach the id lookups. */
function plausible(type: GraphQLNamedType, name: string): unknown {
  if (isEnumType(type)) return type.getValues()[0]?.name;
  const n = ++probeCounter;
  const lower = name.toLowerCase();
  switch (type.name) {
    case 'String':
      if (lower.includes('email')) return `probe-${n}@b.example.com`;
      if (lower.includes('password')) return PROBE_PASSWORD;
      if (lower.includes('externalkey')) return `probe-${n}-external-key`;
      if (lower.includes('content')) return '{}';
      return `probe-${n}`;
    case 'Int':
      return 10;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return true;
    case 'JSON':
      return {};
    case 'DateTime':
      return new Date(Date.now() + 86_400_000).toISOString();
    default:
      return `probe-${n}`;
  }
}

/**
 * The value of one argument or input field: assigned ids where the assignment says, `fill` for other
 * required ids, plausible values for other required inputs; optional inputs only when an assigned id
 * is in them.
 */
function valueFor(
  type: GraphQLInputType,
  path: string[],
  required: boolean,
  assignment: Assignment,
  fill: (path: string[]) => string,
): unknown {
  if (isNonNullType(type)) return valueFor(type.ofType, path, true, assignment, fill);
  const key = path.join('.');
  const wanted = required || [...assignment.keys()].some((k) => k === key || k.startsWith(`${key}.`));
  if (!wanted) return OMIT;
  const assigned = assignment.get(key);
  if (isListType(type)) {
    if (Array.isArray(assigned)) return assigned;
    const item = valueFor(type.ofType, path, true, assignment, fill);
    return item === OMIT ? OMIT : [item];
  }
  if (type.name === 'ID') {
    if (assigned !== undefined) return typeof assigned === 'string' ? assigned : assigned[0];
    return fill(path);
  }
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) {
      const v = valueFor(f.type, [...path, f.name], false, assignment, fill);
      if (v !== OMIT) value[f.name] = v;
    }
    return value;
  }
  return plausible(type, path[path.length - 1] ?? '');
}

function variablesFor(
  probe: Probe,
  assignment: Assignment,
  fill: (path: string[]) => string,
): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const arg of probe.field.args) {
    const v = valueFor(arg.type, [arg.name], false, assignment, fill);
    if (v !== OMIT) variables[arg.name] = v;
  }
  return variables;
}

/** Scalars of the type, and of its object fields down to `depth`, so that any leaked data shows. */
function selection(s: GraphQLSchema, type: GraphQLOutputType, depth: number): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (isAbstractType(named)) {
    const parts = s.getPossibleTypes(named).map((t) => `... on ${t.name} ${selection(s, t, depth)}`);
    return `{ __typename ${parts.join(' ')} }`;
  }
  if (!isObjectType(named)) return '';
  const parts: string[] = [];
  for (const f of Object.values(named.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
    if (isLeafType(getNamedType(f.type))) parts.push(f.name);
    else if (depth > 0) {
      const sub = selection(s, f.type, depth - 1);
      if (sub) parts.push(`${f.name} ${sub}`);
    }
  }
  return `{ ${parts.length > 0 ? parts.join(' ') : '__typename'} }`;
}

function documentFor(s: GraphQLSchema, probe: Probe, variables: Record<string, unknown>): string {
  const args = probe.field.args.filter((a) => a.name in variables);
  const definitions = args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const call = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  return [
    `${probe.operation} Probe${definitions ? `(${definitions})` : ''} {`,
    `${probe.field.name}${call ? `(${call})` : ''} ${selection(s, probe.field.type, SELECTION_DEPTH)}`,
    '}',
  ].join(' ');
}

interface Variant {
  probe: Probe;
  document: string;
  variables: Record<string, unknown>;
  /** A's ids this variant sends. */
  sent: string[];
  /** The same operation with each of A's ids replaced by an id that exists nowhere. */
  control: { document: string; variables: Record<string, unknown> } | undefined;
}

interface Ids {
  byKind: Record<Kind, string[]>;
}

/**
 * All id slots at once get A's ids of their kind; then each slot gets, in turn, every one of A's ids of
 * every kind (the other required id slots B's own id of their kind, so mixing B's and A's entities is
 * tried too). Each variant with A's ids has a control: the same with A's ids replaced by unknown ids.
 */
function variantsOf(s: GraphQLSchema, probe: Probe, a: Ids, b: Ids): Variant[] {
  const fill = (path: string[]) => {
    const kind = kindOf(path[path.length - 1] ?? '', probe.field.name) ?? 'thing';
    return b.byKind[kind][0] ?? b.byKind.thing[0]!;
  };
  const assignments: Map<string, string | readonly string[]>[] = [];
  // with none of A's ids too, when no id is required (lists, `me`, …): B's own view must not hold A's data
  let needsIds = false;
  variablesFor(probe, new Map(), () => {
    needsIds = true;
    return '';
  });
  if (!needsIds) assignments.push(new Map());
  if (probe.slots.length > 0) {
    assignments.push(
      new Map(
        probe.slots.map((slot) => {
          const ids = a.byKind[slot.kind ?? 'thing'];
          return [slot.path.join('.'), slot.list ? ids : ids[0]!];
        }),
      ),
    );
  }
  // ids outermost: should the cap cut a field with many id slots short, every slot still got some of A's
  for (const id of KINDS.flatMap((k) => a.byKind[k])) {
    for (const slot of probe.slots) {
      assignments.push(new Map([[slot.path.join('.'), slot.list ? [id] : id]]));
    }
  }
  const seen = new Set<string>();
  const variants: Variant[] = [];
  for (const assignment of assignments) {
    const variables = variablesFor(probe, assignment, fill);
    const key = JSON.stringify(variables);
    if (seen.has(key)) continue;
    seen.add(key);
    const sent = [...new Set([...assignment.values()].flat())];
    let control: Variant['control'];
    if (sent.length > 0) {
      const unknown = new Map(sent.map((id) => [id, v7()]));
      const swapped = new Map(
        [...assignment].map(([k, v]) => [
          k,
          typeof v === 'string' ? unknown.get(v)! : v.map((id) => unknown.get(id)!),
        ]),
      );
      const controlVariables = variablesFor(probe, swapped, fill);
      control = { document: documentFor(s, probe, controlVariables), variables: controlVariables };
    }
    variants.push({ probe, document: documentFor(s, probe, variables), variables, sent, control });
    if (variants.length >= MAX_VARIANTS_PER_FIELD) break;
  }
  return variants;
}

// --- running and judging

/** Every string of A's that must never reach B, lowercased, with what it is. */
class Secrets {
  readonly #items = new Map<string, string>();

  add(value: string, label: string): void {
    if (value.length >= 8) this.#items.set(value.toLowerCase(), label);
  }

  /** An id in the forms it could leak in: as is, as hex (API keys), as a cursor (base64url). */
  addId(id: string, label: string): void {
    this.add(id, label);
    this.add(id.replaceAll('-', ''), `${label} (hex)`);
    this.add(Buffer.from(id).toString('base64url'), `${label} (as a cursor)`);
  }

  find(text: string): string[] {
    const lower = text.toLowerCase();
    return [...this.#items].filter(([value]) => lower.includes(value)).map(([, label]) => label);
  }
}

type ResponseError = NonNullable<GraphqlResponse['errors']>[number];

/** What is wrong with B's answer; empty when B got nothing. */
function problemsOf(
  res: GraphqlResponse<unknown>,
  sent: readonly string[],
  secrets: Secrets,
  forbiddenAllowed = false,
): string[] {
  const problems: string[] = [];
  const kept: ResponseError[] = [];
  for (const error of res.errors ?? []) {
    const code = error.extensions?.code;
    if (code === 'NOT_FOUND') {
      // the id B sent may be echoed in the message; nothing else of A's
      let message = error.message;
      for (const id of sent) message = message.replaceAll(id, '<the id sent>');
      for (const leak of secrets.find(message)) problems.push(`NOT_FOUND message leaks ${leak}`);
      continue;
    }
    kept.push(error);
    if (code === undefined || (DISALLOWED_CODES.has(code) && !(forbiddenAllowed && code === 'FORBIDDEN'))) {
      problems.push(`error ${code ?? 'without a code'}: ${error.message}`);
    }
  }
  for (const leak of secrets.find(JSON.stringify({ data: res.data, errors: kept }))) {
    problems.push(`leaks ${leak}`);
  }
  return [...new Set(problems)];
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIME_RE = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;

/** The answer with ids, times and probe values made generic: A's id vs an unknown id must not differ. */
function normalized(res: GraphqlResponse<unknown>): string {
  return JSON.stringify({
    data: res.data ?? null,
    errors: (res.errors ?? []).map((e) => ({ code: e.extensions?.code, message: e.message, path: e.path })),
  })
    .replace(UUID_RE, '<id>')
    .replace(TIME_RE, '<time>')
    .replace(/probe-\d+/g, 'probe-N');
}

// --- the two tenants

interface TenantA extends Ids {
  owner: Signed;
  viewerToken: string;
  apiKey: string;
  thingKeys: string[];
  externalId: string;
  externalKey: string;
  /** id → its name (email for users) */
  names: Map<string, string>;
  /** id → what it is, for readable reports */
  labels: Map<string, string>;
  secrets: Secrets;
}

interface TenantB extends Ids {
  owner: Signed;
}

const CREATE_CHANNEL = 'mutation($input: CreateChannelInput!) { createChannel(input: $input) { id name } }';
const CREATE_THING =
  'mutation($input: CreateThingInput!) { createThing(input: $input) { key thing { id name } } }';
const CREATE_API_KEY =
  'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id name } } }';
const CONNECT = 'mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }';

async function createChannel(url: string, token: string, input: Record<string, unknown>): Promise<string> {
  return (await ok<{ createChannel: { id: string } }>(url, CREATE_CHANNEL, { input }, token)).createChannel
    .id;
}

async function createThing(
  url: string,
  token: string,
  input: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const { createThing } = await ok<{ createThing: { key: string; thing: { id: string } } }>(
    url,
    CREATE_THING,
    { input },
    token,
  );
  return { id: createThing.thing.id, key: createThing.key };
}

async function createApiKey(url: string, token: string, name: string): Promise<{ id: string; key: string }> {
  const { createApiKey } = await ok<{ createApiKey: { key: string; apiKey: { id: string } } }>(
    url,
    CREATE_API_KEY,
    { input: { name, role: 'viewer' } },
    token,
  );
  return { id: createApiKey.apiKey.id, key: createApiKey.key };
}

/** A's digit classifier, uploaded (multipart), deployed and bound to a channel, with a predict job. */
async function uploadModel(
  url: string,
  token: string,
  name: string,
  channelId: string,
): Promise<{ id: string; bindingId: string; jobId: string }> {
  const form = new FormData();
  const query = 'mutation($input: UploadModelInput!) { uploadModel(input: $input) { id } }';
  form.set('operations', JSON.stringify({ query, variables: { input: { name, deploy: true, file: null } } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([new Uint8Array(referenceModel('digits'))]), 'digits.onnx');
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}`, 'graphql-require-preflight': '1' },
  });
  const { data, errors } = (await res.json()) as { data: { uploadModel: { id: string } }; errors?: unknown };
  assert.ok(data, JSON.stringify(errors));
  const id = data.uploadModel.id;
  const { bindModel } = await ok<{ bindModel: { bindings: { id: string }[] } }>(
    url,
    'mutation($input: BindModelInput!) { bindModel(input: $input) { bindings { id } } }',
    { input: { modelId: id, channelId, measurements: ['image'] } },
    token,
  );
  const { submitPredictJob } = await ok<{ submitPredictJob: { id: string } }>(
    url,
    'mutation($id: ID!) { submitPredictJob(modelId: $id, input: { tensor: [0] }) { id } }',
    { id },
    token,
  );
  return { id, bindingId: bindModel.bindings[0]?.id ?? '', jobId: submitPredictJob.id };
}

async function setUpA(url: string, nc: NatsConnection): Promise<TenantA> {
  const tag = randomBytes(4).toString('hex');
  const secrets = new Secrets();
  const labels = new Map<string, string>();
  const idNames = new Map<string, string>();
  const owner = await signup(url, `a-owner-${tag}@a.example.com`, `A-secret-tenant-${tag}`);
  const token = owner.accessToken;

  const channelNames = [`A-secret-channel-1-${tag}`, `A-secret-channel-2-${tag}`];
  const channels: string[] = [];
  for (const [i, name] of channelNames.entries()) {
    const meta = `A-secret-channel-meta-${i + 1}-${tag}`;
    channels.push(await createChannel(url, token, { name, metadata: { secret: meta } }));
    secrets.add(name, 'A channel name');
    secrets.add(meta, 'A channel metadata');
  }

  const externalId = `A-secret-ext-${tag}`;
  const externalKey = `A-secret-external-key-${tag}`;
  const thing1 = await createThing(url, token, {
    name: `A-secret-thing-1-${tag}`,
    metadata: { secret: `A-secret-thing-meta-1-${tag}` },
    externalId,
    externalKey,
  });
  const thing2 = await createThing(url, token, {
    name: `A-secret-thing-2-${tag}`,
    metadata: { secret: `A-secret-thing-meta-2-${tag}` },
  });
  const [c1, c2] = channels as [string, string];
  await ok(url, CONNECT, { t: thing1.id, c: c1 }, token);
  await ok(url, CONNECT, { t: thing2.id, c: c1 }, token);
  await ok(url, CONNECT, { t: thing2.id, c: c2 }, token);
  const content = `{"secret":"A-secret-bootstrap-content-${tag}"}`;
  await ok(
    url,
    `mutation($input: BootstrapInput!) { configureBootstrap(input: $input) { id } }`,
    { input: { thingId: thing1.id, externalId, externalKey, channelIds: [c1, c2], content } },
    token,
  );
  // a thing with its own rate limit, so that B clearing or changing it would show
  await ok(
    url,
    'mutation($id: ID!) { setThingRateLimit(thingId: $id, perSecond: 1000, burst: 2000) { id } }',
    { id: thing1.id },
    token,
  );
  // a disabled thing too, so that B enabling it would show
  await ok(url, 'mutation($id: ID!) { disableThing(id: $id) { id } }', { id: thing2.id }, token);
  for (const [i, thing] of [thing1, thing2].entries()) {
    secrets.add(`A-secret-thing-${i + 1}-${tag}`, 'A thing name');
    secrets.add(`A-secret-thing-meta-${i + 1}-${tag}`, 'A thing metadata');
    secrets.add(thing.key, 'A thing key');
  }
  secrets.add(externalId, 'A bootstrap external id');
  secrets.add(externalKey, 'A bootstrap external key');
  secrets.add(`A-secret-bootstrap-content-${tag}`, 'A bootstrap content');

  const apiKeyName = `A-secret-apikey-${tag}`;
  const apiKey = await createApiKey(url, token, apiKeyName);
  secrets.add(apiKeyName, 'A API key name');
  secrets.add(apiKey.key, 'A API key');

  const viewerEmail = `a-viewer-${tag}@a.example.com`;
  const { inviteUser } = await ok<{ inviteUser: { id: string } }>(
    url,
    'mutation($input: InviteUserInput!) { inviteUser(input: $input) { id } }',
    { input: { email: viewerEmail, password: PASSWORD, role: 'viewer' } },
    token,
  );
  const { login } = await ok<{ login: Signed }>(
    url,
    'mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id } } }',
    { input: { email: viewerEmail, password: PASSWORD } },
  );
  secrets.add(owner.user.email, 'A owner email');
  secrets.add(viewerEmail, 'A viewer email');
  secrets.add(owner.user.tenant.name, 'A tenant name');
  for (const [t, name] of [
    [owner.accessToken, 'A owner access token'],
    [owner.refreshToken, 'A owner refresh token'],
    [login.accessToken, 'A viewer access token'],
    [login.refreshToken, 'A viewer refresh token'],
  ] as const) {
    secrets.add(t, name);
  }

  // a deployed model bound to A's channel, and a predict job of A's queue
  const modelName = `A-secret-model-${tag}`;
  const model = await uploadModel(url, token, modelName, c1);
  secrets.add(modelName, 'A model name');

  // a rule of A's with an open alert, and a timed command whose revert is still scheduled
  const ruleName = `A-secret-rule-${tag}`;
  const alertMessage = `A-secret-alert-${tag}`;
  const rule = await ok<{ createRule: { id: string } }>(
    url,
    'mutation($input: CreateRuleInput!) { createRule(input: $input) { id } }',
    {
      input: {
        name: ruleName,
        thingId: thing1.id,
        measurement: 'temperature',
        condition: { op: 'GT', value: 0 },
        message: alertMessage,
        actions: [{ webhook: { url: 'http://127.0.0.1:9/hook', secret: `A-secret-webhook-key-${tag}` } }],
      },
    },
    token,
  );
  // and one scoped by metadata: what it matches is A's too
  const ruleZone = `A-secret-rule-zone-${tag}`;
  await ok(
    url,
    'mutation($input: CreateRuleInput!) { createRule(input: $input) { id } }',
    {
      input: {
        name: `A-rule-by-zone-${tag}`,
        thingMetadata: { zone: ruleZone },
        measurement: 'humidity',
        condition: { op: 'GT', value: 90 },
      },
    },
    token,
  );
  secrets.add(ruleZone, 'A rule thingMetadata');
  await publishReading(nc, { tenantId: owner.user.tenant.id, channelId: c1, thingId: thing1.id }, [
    { n: 'temperature', v: 20 },
  ]);
  const alert = await waitFor(
    async () =>
      (await ok<{ alerts: { nodes: { id: string }[] } }>(url, '{ alerts { nodes { id } } }', {}, token))
        .alerts.nodes[0],
    { what: 'A’s alert raised' },
  );
  const { sendCommand } = await ok<{ sendCommand: { id: string; revert: { id: string } } }>(
    url,
    'mutation($t: ID!, $p: JSON) { sendCommand(thingId: $t, name: "pump", payload: $p, duration: "1h", revertPayload: $p) { id revert { id } } }',
    { t: thing1.id, p: { secret: `A-secret-command-${tag}` } },
    token,
  );
  // a backtest of A's rule, kept in A's backtest queue
  const { backtestRule } = await ok<{ backtestRule: { id: string } }>(
    url,
    `mutation($input: CreateRuleInput!, $from: DateTime!, $to: DateTime!, $rule: ID) {
      backtestRule(input: $input, from: $from, to: $to, ruleId: $rule) { id }
    }`,
    {
      input: {
        name: ruleName,
        thingId: thing1.id,
        measurement: 'temperature',
        condition: { op: 'GT', value: 0 },
      },
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date().toISOString(),
      rule: rule.createRule.id,
    },
    token,
  );
  // a replay of A's binding, kept in A's replay queue (no inference component here: it fails)
  const { replayBinding } = await ok<{ replayBinding: { id: string } }>(
    url,
    'mutation($b: ID!, $from: DateTime!, $to: DateTime!) { replayBinding(bindingId: $b, from: $from, to: $to) { id } }',
    {
      b: model.bindingId,
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date().toISOString(),
    },
    token,
  );
  secrets.add(ruleName, 'A rule name');
  secrets.add(alertMessage, 'A alert message');
  secrets.add(`A-secret-webhook-key-${tag}`, 'A webhook secret');
  secrets.add(`A-secret-command-${tag}`, 'A command payload');

  // a Kafka source on A's channel and a Kafka sink of A's messages and events
  const sourceTopic = `A-secret-topic-${tag}`;
  const sinkTopic = `A-secret-sink-${tag}`;
  const { createKafkaSource } = await ok<{ createKafkaSource: { id: string } }>(
    url,
    'mutation($input: CreateKafkaSourceInput!) { createKafkaSource(input: $input) { id } }',
    { input: { topic: sourceTopic, format: 'SENML_JSON', thingFrom: 'KEY', channelId: c1 } },
    token,
  );
  const { createKafkaSink } = await ok<{ createKafkaSink: { id: string } }>(
    url,
    'mutation($input: CreateKafkaSinkInput!) { createKafkaSink(input: $input) { id } }',
    { input: { messagesTopic: sinkTopic, eventsTopic: `${sinkTopic}-events` } },
    token,
  );
  secrets.add(sourceTopic, 'A Kafka source topic');
  secrets.add(sinkTopic, 'A Kafka sink topic');

  const byKind: Record<Kind, string[]> = {
    tenant: [owner.user.tenant.id],
    user: [owner.user.id, inviteUser.id],
    thing: [thing1.id, thing2.id],
    channel: channels,
    apikey: [apiKey.id],
    model: [model.id, model.bindingId],
    job: [model.jobId, backtestRule.id, replayBinding.id],
    rule: [rule.createRule.id],
    alert: [alert.id],
    command: [sendCommand.id, sendCommand.revert.id],
    kafka: [createKafkaSource.id, createKafkaSink.id],
  };
  const names: Record<Kind, string[]> = {
    tenant: [owner.user.tenant.name],
    user: [owner.user.email, viewerEmail],
    thing: [`A-secret-thing-1-${tag}`, `A-secret-thing-2-${tag}`],
    channel: channelNames,
    apikey: [apiKeyName],
    model: [modelName, `${modelName} binding`],
    job: [`${modelName} job`, `${ruleName} backtest`, `${modelName} binding replay`],
    rule: [ruleName],
    alert: [alertMessage],
    command: ['A timed command', 'A timed command’s revert'],
    kafka: [sourceTopic, sinkTopic],
  };
  for (const kind of KINDS) {
    for (const [i, id] of byKind[kind].entries()) {
      const label = `A ${kind} ${names[kind][i]}`;
      idNames.set(id, names[kind][i]!);
      labels.set(id, label);
      secrets.addId(id, `${label} id`);
    }
  }
  return {
    owner,
    viewerToken: login.accessToken,
    apiKey: apiKey.key,
    thingKeys: [thing1.key, thing2.key],
    externalId,
    externalKey,
    byKind,
    names: idNames,
    labels,
    secrets,
  };
}

async function setUpB(url: string): Promise<TenantB> {
  const tag = randomBytes(4).toString('hex');
  const owner = await signup(url, `b-owner-${tag}@b.example.com`, `B-tenant-${tag}`);
  const token = owner.accessToken;
  const channel = await createChannel(url, token, { name: `B-channel-${tag}` });
  const thing = await createThing(url, token, { name: `B-thing-${tag}` });
  await ok(url, CONNECT, { t: thing.id, c: channel }, token);
  const apiKey = await createApiKey(url, token, `B-apikey-${tag}`);
  return {
    owner,
    byKind: {
      tenant: [owner.user.tenant.id],
      user: [owner.user.id],
      thing: [thing.id],
      channel: [channel],
      apikey: [apiKey.id],
      model: [],
      job: [],
      rule: [],
      alert: [],
      command: [],
      kafka: [],
    },
  };
}

/**
 * Everything A can see of its registry (timestamps that A's own writes move left out). A has a
 * handful of each, so pages of 20 hold all of it within the API's cost limit.
 */
const SNAPSHOT = `query Snapshot {
  tenant { id name createdAt }
  me { id email role }
  users(first: 20) { totalCount nodes { id email role createdAt tenant { id } } }
  apiKeys { id name role revokedAt expiresAt createdAt }
  things(first: 20) {
    totalCount
    nodes {
      id name metadata enabled createdAt rateLimit { perSecond burst }
      bootstrap { externalId content channels { id } }
      channels(first: 20) { totalCount nodes { id } }
    }
  }
  channels(first: 20) { totalCount nodes { id name metadata createdAt things(first: 20) { totalCount nodes { id } } } }
  models { id name status deployedVersion latestVersion versions { version sha256 } bindings { id channelId measurements } }
  rules(first: 20) { totalCount nodes { id name enabled measurement actions condition { op value } } }
  kafkaSources { id topic format thingFrom header channelId createdAt }
  kafkaSinks { id messagesTopic eventsTopic eventTypes createdAt }
  alerts(first: 20) { totalCount nodes { id status note acknowledgedAt clearedAt } }
}`;

/**
 * A's things' and channels' names changed and changed back, and telemetry stored for each of A's
 * things on each of its channels, so a leaky subscription has events to leak.
 */
/**
 * What the bridges record of A's first thing: a session (so it is online) and a refused
 * publish whose detail is a secret, so that B reading A's status or rejections would show.
 */
async function recordDeviceFactsOfA(stack: Stack, a: TenantA): Promise<void> {
  const tenantId = a.owner.user.tenant.id;
  const thingId = a.byKind.thing[0]!;
  const detail = `A-secret-rejection-${randomBytes(4).toString('hex')}`;
  const publisher = new Publisher(jetstream(stack.nc));
  const context = () => ({ id: v7(), now: Date.now() });
  const presence = { thingId, protocol: 'mqtt' as const, remoteAddress: '203.0.113.7:51234' };
  await publisher.publishEvent(createEvent('thing.online', { tenantId, data: presence }, context()));
  await publisher.publishEvent(
    createEvent(
      'message.rejected',
      { tenantId, data: { protocol: 'http', thingId, reason: 'invalid-payload', detail } },
      context(),
    ),
  );
  a.secrets.add(detail, 'A rejection detail');
  const seen = `query($id: ID!) { thing(id: $id) { status { online } rejections { totalCount } } }`;
  type Seen = { thing: { status: { online: boolean }; rejections: { totalCount: number } } };
  await waitFor(
    async () => {
      const { thing } = await ok<Seen>(stack.url, seen, { id: thingId }, a.owner.accessToken);
      return thing.status.online && thing.rejections.totalCount === 1;
    },
    { what: 'A’s device facts projected' },
  );
}

async function stirA(stack: Stack, a: TenantA): Promise<void> {
  const url = stack.url;
  const token = a.owner.accessToken;
  for (const channelId of a.byKind.channel) {
    for (const thingId of a.byKind.thing) {
      await publishReading(stack.nc, { tenantId: a.owner.user.tenant.id, channelId, thingId }, [
        { n: 'temperature', u: 'Cel', v: 21.5 },
      ]);
    }
  }
  for (const [kind, mutation] of [
    ['thing', 'updateThing'],
    ['channel', 'updateChannel'],
  ] as const) {
    for (const id of a.byKind[kind]) {
      const name = a.names.get(id)!;
      const doc = `mutation($id: ID!, $name: String!) { ${mutation}(id: $id, input: { name: $name }) { id } }`;
      await ok(url, doc, { id, name: `${name}-stirred` }, token);
      await ok(url, doc, { id, name }, token);
    }
  }
}

function describeVariables(variables: Record<string, unknown>, labels: Map<string, string>): string {
  return JSON.stringify(variables).replace(UUID_RE, (id) => (labels.has(id) ? `<${labels.get(id)}>` : id));
}

function excerpt(res: GraphqlResponse<unknown>): string {
  const text = JSON.stringify({ status: res.status, data: res.data, errors: res.errors });
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

// --- the suite

describe('tenant isolation: every operation of the schema, as another tenant’s owner, on A’s ids', () => {
  let stack: Stack;
  let a: TenantA;
  let b: TenantB;
  let snapshotBefore: unknown;
  let credentialsBefore: (ThingCredential | undefined)[];
  const executed = new Set<string>();
  const exercisedWithAId = new Set<string>();
  let operations = 0;

  before(async () => {
    stack = await startStack();
    a = await setUpA(stack.url, stack.nc);
    await recordDeviceFactsOfA(stack, a);
    b = await setUpB(stack.url);
    snapshotBefore = await ok(stack.url, SNAPSHOT, {}, a.owner.accessToken);
    credentialsBefore = await Promise.all(
      a.thingKeys.map((key) => readCredential(stack.credentials, keyHash(key))),
    );
  });
  after(async () => {
    await stack?.stop();
  });

  test('B gets nothing of A’s, and nothing that tells A’s ids from unknown ones', async (t) => {
    const started = Date.now();
    const { probes } = enumerate(schema);
    const violations: string[] = [];
    const judge = (
      variant: Variant,
      res: GraphqlResponse<unknown>,
      control: GraphqlResponse<unknown> | undefined,
    ) => {
      executed.add(variant.probe.coordinate);
      if (variant.sent.length > 0) exercisedWithAId.add(variant.probe.coordinate);
      const problems = problemsOf(res, variant.sent, a.secrets, OPERATOR_ONLY.has(variant.probe.coordinate));
      if (control && normalized(res) !== normalized(control)) {
        problems.push(`answers A’s ids differently than unknown ids; for unknown ids: ${excerpt(control)}`);
      }
      if (problems.length > 0) {
        violations.push(
          `${variant.probe.coordinate}(${describeVariables(variant.variables, a.labels)}): ${problems.join('; ')}\n    response: ${excerpt(res)}`,
        );
      }
    };

    const order: Operation[] = ['query', 'mutation'];
    for (const operation of order) {
      for (const probe of probes.filter((p) => p.operation === operation)) {
        for (const variant of variantsOf(schema, probe, a, b)) {
          const token = b.owner.accessToken;
          const res = await gql<unknown>(stack.url, variant.document, variant.variables, token);
          const control =
            variant.control &&
            (await gql<unknown>(stack.url, variant.control.document, variant.control.variables, token));
          operations += control ? 2 : 1;
          judge(variant, res, control);
        }
      }
    }

    // subscriptions: all open at once while A changes its things and channels, then judged alike
    const subscriptionVariants = probes
      .filter((p) => p.operation === 'subscription')
      .flatMap((p) => variantsOf(schema, p, a, b));
    if (subscriptionVariants.length > 0) {
      const window = new AbortController();
      const token = b.owner.accessToken;
      const running = subscriptionVariants.map(async (variant) => {
        const [res, control] = await Promise.all([
          subscribe(stack.url, variant.document, variant.variables, token, window.signal),
          variant.control &&
            subscribe(stack.url, variant.control.document, variant.control.variables, token, window.signal),
        ]);
        return { variant, res, control };
      });
      await sleep(SUBSCRIPTION_WINDOW_MS / 2);
      await stirA(stack, a);
      await sleep(SUBSCRIPTION_WINDOW_MS / 2);
      window.abort();
      for (const { variant, res, control } of await Promise.all(running)) {
        operations += control ? 2 : 1;
        judge(variant, res, control);
      }
    }

    t.diagnostic(
      `${probes.length} fields, ${operations} operations as B (variants and their unknown-id controls) in ${Date.now() - started} ms`,
    );
    assert.equal(
      violations.length,
      0,
      `${violations.length} tenant isolation violation(s):\n  ${violations.join('\n  ')}`,
    );
  });

  test('the enumeration attacked every field, and every id-taking field with A’s ids', () => {
    const { probes, skipped } = enumerate(schema);
    for (const coordinate of MUST_COVER)
      assert.ok(executed.has(coordinate), `${coordinate} was not attacked`);
    assert.deepEqual(
      probes.map((p) => p.coordinate).filter((c) => !executed.has(c)),
      [],
      'fields never run',
    );
    const withIds = probes.filter((p) => p.slots.length > 0).map((p) => p.coordinate);
    assert.ok(withIds.length >= 15, `only ${withIds.length} fields take ids: ${withIds.join(', ')}`);
    assert.deepEqual(
      withIds.filter((c) => !exercisedWithAId.has(c)),
      [],
      'fields taking ids never sent one of A’s',
    );
    // only the documented auth entry points are left out
    assert.deepEqual(
      skipped.filter((c) => !SKIPPED.has(c)),
      [],
    );
    assert.ok(operations >= 100, `only ${operations} operations ran`);
  });

  test('A’s registry, keys, sessions and bootstrap are intact after B’s attack', async () => {
    const { url } = stack;
    assert.deepEqual(await ok(url, SNAPSHOT, {}, a.owner.accessToken), snapshotBefore);
    for (const [i, key] of a.thingKeys.entries()) {
      const credential = await readCredential(stack.credentials, keyHash(key));
      assert.ok(credential, `A’s thing key ${i + 1} no longer authenticates`);
      assert.deepEqual(credential, credentialsBefore[i]);
    }
    const viewer = await ok<{ me: { id: string; role: string } }>(
      url,
      '{ me { id role } }',
      {},
      a.viewerToken,
    );
    assert.deepEqual(viewer.me, { id: a.byKind.user[1], role: 'viewer' });
    const viaKey = await ok<{ things: { totalCount: number } }>(
      url,
      '{ things { totalCount } }',
      {},
      a.apiKey,
    );
    assert.equal(viaKey.things.totalCount, a.byKind.thing.length);
    await ok(url, 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }', {
      input: { email: a.owner.user.email, password: PASSWORD },
    });
    // last, since bootstrapping rotates the thing's key: A's device still gets its config
    const res = await fetch(`${url}/things/bootstrap/${a.externalId}`, {
      headers: { authorization: `Thing ${a.externalKey}` },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { id: string; channels: { id: string }[] };
    assert.equal(body.id, a.byKind.thing[0]);
    assert.deepEqual(
      body.channels.map((c) => c.id),
      a.byKind.channel,
    );
  });
});

test('subscriptions are enumerated, built and read over SSE, and a leak is caught (on a toy schema)', async () => {
  const leaked = v7();
  const toy = createSchema({
    typeDefs: /* GraphQL */ `
      type Query { ok: Boolean }
      type Thing { id: ID! name: String! }
      input EchoInput { channelIds: [ID!]! note: String! }
      type Subscription { thingEvents(thingId: ID!, input: EchoInput): Thing! }
    `,
    resolvers: {
      Subscription: {
        thingEvents: {
          subscribe: async function* (_root: unknown, args: { thingId: string }) {
            yield { thingEvents: { id: args.thingId, name: 'secret thing' } };
          },
        },
      },
    },
  });
  const server = createServer(createYoga({ schema: toy, logging: false }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const [probe, ...others] = enumerate(toy).probes.filter((p) => p.operation === 'subscription');
    assert.ok(probe && others.length === 0);
    assert.deepEqual(
      probe.slots.map((s) => [s.path.join('.'), s.list, s.kind]),
      [
        ['thingId', false, 'thing'],
        ['input.channelIds', true, 'channel'],
      ],
    );
    const ids = (id: string): Ids => ({
      byKind: {
        tenant: [id],
        user: [id],
        thing: [id],
        channel: [id],
        apikey: [id],
        model: [id],
        job: [id],
        rule: [id],
        alert: [id],
        command: [id],
        kafka: [id],
      },
    });
    const variants = variantsOf(toy, probe, ids(leaked), ids(v7()));
    assert.ok(variants.length >= 2);
    for (const variant of variants) assert.deepEqual(validate(toy, parse(variant.document)), []);

    const variant = variants.find((v) => v.variables.thingId === leaked)!;
    const res = await subscribe(
      url,
      variant.document,
      variant.variables,
      'token',
      AbortSignal.timeout(2_000),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, [{ thingEvents: { id: leaked, name: 'secret thing' } }]);
    const secrets = new Secrets();
    secrets.addId(leaked, 'A thing id');
    assert.deepEqual(problemsOf(res, variant.sent, secrets), ['leaks A thing id']);
  } finally {
    server.close();
  }
});
