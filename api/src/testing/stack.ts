// Test support: a real NATS + Postgres, every table the API reads, the registry projection and the
// API on a free port (tests that call `api.app.fetch` use no socket of it).
import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import {
  commandsMigrations,
  requestedProjection,
  scheduledProjection,
  statusProjection,
} from '@telly/commands';
import { deviceEventsProjection, devicesMigrations } from '@telly/devices';
import { eventStreamData } from '@telly/harness';
import { registryMigrations, registryProjection } from '@telly/registry';
import { component as rulesComponent } from '@telly/rules';
import { createLogger, createMetricsRegistry, HealthChecks, type Logger } from '@telly/runtime';
import { startRuntimeTestStack } from '@telly/runtime/testing';
import { KV_BUCKETS } from '@telly/schemas';
import { telemetryMigrations } from '@telly/telemetry-pg';
import { type Client, createClient } from 'graphql-ws';
import { exportJWK, generateKeyPair } from 'jose';
import type pg from 'pg';
import WebSocket from 'ws';
import { type Api, type ApiDeps, createApi } from '../compose.ts';
import { apiMigrations } from '../migrations.ts';
import type { TelemetryFeedOptions } from '../services/telemetry-feed.ts';
import type { GraphqlApp } from '../yoga.ts';

export interface Stack {
  url: string;
  nc: NatsConnection;
  pool: pg.Pool;
  credentials: KV;
  api: Api;
  stop(): Promise<void>;
}

export async function startStack(
  options: {
    oidcProviders?: string;
    feed?: TelemetryFeedOptions;
    jwtPrivateKey?: string;
    /** @default errors only (or `LOG_LEVEL`) */
    logger?: Logger;
    /** `TELLY_MAX_RULES_PER_TENANT`, for a test of the cap. @default 1000 */
    maxRulesPerTenant?: number;
    /** `TELLY_MAX_MODEL_BYTES`, for a test of the upload limit. @default 64 MiB */
    maxModelBytes?: number;
  } = {},
): Promise<Stack> {
  const runtime = await startRuntimeTestStack({
    name: 'api-test',
    logger: options.logger,
    pool: { max: 10 },
    // what `telly migrate` runs for the components this stack stands in for
    migrations: [
      registryMigrations,
      apiMigrations,
      commandsMigrations,
      telemetryMigrations,
      devicesMigrations,
    ],
  });
  const { nc, pool, logger } = runtime;
  const credentials = await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS);
  await runtime.run(registryProjection({ pool, credentials }));
  // presence and refused publishes, so that Thing.status and rejections answer with data
  await runtime.run(deviceEventsProjection(pool));
  // the commands read model, timed commands' schedules included
  await runtime.run(requestedProjection(pool));
  await runtime.run(statusProjection(pool));
  await runtime.run(scheduledProjection(pool));
  // rules and alerts (the rules processor, without mail: no TELLY_SMTP_URL)
  const rules = await rulesComponent.start({
    name: 'rules',
    env: { NATS_URL: runtime.nats.url, DATABASE_URL: runtime.db.url },
    logger,
    metrics: createMetricsRegistry('rules'),
    health: new HealthChecks(),
  });
  runtime.onStop(() => rules.stop());
  const api = await createApi({ config: apiConfig(options), nc, pool, logger, feed: options.feed });
  runtime.onStop(() => api.close());
  const port = await api.listen(0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}`, nc, pool, credentials, api, stop: runtime.stop };
}

/**
 * The API's settings in tests: the issuer and audience it runs with, and the signing key, OIDC
 * providers, operator tenant, rule cap and model size limit given, if any (no key file).
 */
function apiConfig(options: {
  jwtPrivateKey?: string | undefined;
  oidcProviders?: string | undefined;
  operatorTenant?: string | undefined;
  maxRulesPerTenant?: number | undefined;
  maxModelBytes?: number | undefined;
}): ApiDeps['config'] {
  return {
    issuer: 'telly',
    audience: 'telly-api',
    jwtPrivateKey: options.jwtPrivateKey,
    jwtKeyFile: undefined,
    oidcProviders: options.oidcProviders,
    operatorTenant: options.operatorTenant,
    ...(options.maxRulesPerTenant !== undefined && { maxRulesPerTenant: options.maxRulesPerTenant }),
    ...(options.maxModelBytes !== undefined && { maxModelBytes: options.maxModelBytes }),
  };
}

/** A private signing key (JWK JSON) to give two API instances, so each accepts the other's tokens. */
async function sharedSigningKey(): Promise<string> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return JSON.stringify(await exportJWK(privateKey));
}

/**
 * A second API instance beside the stack's, on its NATS and Postgres, configured with an operator
 * tenant (`TELLY_OPERATOR_TENANT`): give both the same `jwtPrivateKey` ({@link sharedSigningKey})
 * and tokens of either work on both. The caller closes it before stopping the stack.
 */
async function startOperatorApi(
  stack: Stack,
  options: { operatorTenant: string; jwtPrivateKey: string },
): Promise<{ api: Api; url: string }> {
  const api = await createApi({
    config: apiConfig(options),
    nc: stack.nc,
    pool: stack.pool,
    logger: createLogger('operator-api', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' }),
  });
  return { api, url: `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}` };
}

export interface OperatorStack {
  stack: Stack;
  /** The admin of the operator tenant. */
  operator: Signed;
  /** The owner of an ordinary tenant. */
  tenant: Signed;
  /** A second API instance, configured with the operator tenant; it accepts the stack's tokens. */
  api: Api;
  url: string;
}

/**
 * A stack with an operator tenant and an ordinary one signed up, and a second API instance
 * configured with the operator tenant beside the stack's. The caller closes `api` before
 * stopping `stack`.
 */
export async function startOperatorStack(): Promise<OperatorStack> {
  // both API instances sign and accept the same tokens
  const jwtPrivateKey = await sharedSigningKey();
  const stack = await startStack({ jwtPrivateKey });
  const operator = await signup(stack.url, `ops-${Date.now()}@example.com`, 'operations');
  const tenant = await signup(stack.url, `farmer-${Date.now()}@example.com`, 'farm');
  const { api, url } = await startOperatorApi(stack, {
    operatorTenant: operator.user.tenant.id,
    jwtPrivateKey,
  });
  return { stack, operator, tenant, api, url };
}

export interface GraphqlResponse<T = Record<string, unknown>> {
  status: number;
  data: T | null | undefined;
  errors:
    | { message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }[]
    | undefined;
}

/** Where requests go: the API's base URL over real HTTP, or the app itself in process (no socket). */
export type Endpoint = string | GraphqlApp;

/** A request to `path` of the endpoint. */
export function send(endpoint: Endpoint, path: string, init: RequestInit = {}): Promise<Response> {
  if (typeof endpoint === 'string') return fetch(`${endpoint}${path}`, init);
  return Promise.resolve(endpoint.fetch(new URL(path, 'http://telly.test'), init));
}

/** POSTs an operation to `/graphql`, asking for `accept`, with the bearer `token` when given. */
function post(
  url: Endpoint,
  operation: { query: string; variables: Record<string, unknown> },
  accept: string,
  token: string | undefined,
  signal?: AbortSignal,
): Promise<Response> {
  return send(url, '/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(operation),
    signal,
  });
}

/** POSTs a GraphQL operation, with `Authorization: Bearer <token>` when given. */
export async function gql<T = Record<string, unknown>>(
  url: Endpoint,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphqlResponse<T>> {
  const res = await post(
    url,
    { query, variables },
    'application/graphql-response+json, application/json',
    token,
  );
  const body = (await res.json()) as { data?: T | null; errors?: GraphqlResponse['errors'] };
  return { status: res.status, data: body.data, errors: body.errors };
}

/** The data of a successful operation; fails the test with the errors otherwise. */
export async function ok<T = Record<string, unknown>>(
  url: Endpoint,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const res = await gql<T>(url, query, variables, token);
  if (res.errors?.length || !res.data) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data;
}

/** The first error's code of a failing operation. */
export async function errorCode(
  url: Endpoint,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<string | undefined> {
  const res = await gql(url, query, variables, token);
  return res.errors?.[0]?.extensions?.code;
}

export const SIGNUP = `mutation($input: SignupInput!) {
  signup(input: $input) { accessToken refreshToken user { id email role tenant { id name } } }
}`;

export interface Signed {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string; role: string; tenant: { id: string; name: string } };
}

export async function signup(url: Endpoint, email: string, tenantName = 'acme'): Promise<Signed> {
  const data = await ok<{ signup: Signed }>(url, SIGNUP, {
    input: { email, password: 'correct horse battery staple', tenantName },
  });
  return data.signup;
}

/**
 * A subscription over GraphQL over SSE (yoga's default transport), read for as long as `signal`
 * allows or until the server ends it; `onPayload` sees each event as it arrives.
 */
export async function subscribeSse(
  url: Endpoint,
  query: string,
  variables: Record<string, unknown>,
  token: string,
  signal: AbortSignal,
  onPayload?: (payload: { data?: unknown; errors?: GraphqlResponse['errors'] }) => void,
): Promise<GraphqlResponse<unknown[]>> {
  const payloads: { data?: unknown; errors?: GraphqlResponse['errors'] }[] = [];
  let status = 0;
  try {
    const res = await post(url, { query, variables }, 'text/event-stream', token, signal);
    status = res.status;
    if (!res.headers.get('content-type')?.includes('text/event-stream') || !res.body) {
      payloads.push((await res.json()) as (typeof payloads)[number]);
    } else {
      for await (const data of eventStreamData(res.body)) {
        const payload = JSON.parse(data) as (typeof payloads)[number];
        payloads.push(payload);
        onPayload?.(payload);
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  return {
    status,
    data: payloads.map((p) => p.data ?? null),
    errors: payloads.flatMap((p) => p.errors ?? []),
  };
}

/** A graphql-ws (WebSocket) client of the API, authenticated by the connection parameter. */
export function wsClient(url: string, token: string): Client {
  return createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

/** A device message as a bridge stores it: resolved SenML JSON with the bridge's headers. */
export async function publishReading(
  nc: NatsConnection,
  at: { tenantId: string; channelId: string; thingId: string; subtopic?: string },
  records: { n: string; v?: number; vs?: string; u?: string; t?: number }[],
  msgId?: string,
): Promise<number> {
  const received = Date.now();
  const headers = natsHeaders();
  headers.set('Content-Type', 'application/senml+json');
  headers.set('Telly-Protocol', 'http');
  headers.set('Telly-Received', String(received));
  const subject = ['msg', at.tenantId, at.channelId, at.thingId, ...(at.subtopic ? [at.subtopic] : [])].join(
    '.',
  );
  const body = records.map((r) => ({ ...r, t: r.t ?? received / 1000 }));
  const ack = await jetstream(nc).publish(subject, JSON.stringify(body), {
    headers,
    ...(msgId ? { msgID: msgId } : {}),
  });
  return ack.seq;
}
