// Test support: a real NATS + Postgres, the registry projection and the API on a free port.
import { jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsServer, startTestDatabase, type TestDatabase } from '@telly/harness';
import { migrateRegistry, registryProjection } from '@telly/registry';
import {
  createLogger,
  createPgPool,
  ensureTopology,
  type RunningProcessor,
  runProcessor,
} from '@telly/runtime';
import { KV_BUCKETS } from '@telly/schemas';
import type pg from 'pg';
import { type Api, createApi } from '../app.ts';

export interface Stack {
  url: string;
  nc: NatsConnection;
  pool: pg.Pool;
  credentials: KV;
  api: Api;
  stop(): Promise<void>;
}

export async function startStack(options: { oidcProviders?: string } = {}): Promise<Stack> {
  const [nats, db]: [NatsServer, TestDatabase] = await Promise.all([NatsServer.start(), startTestDatabase()]);
  const nc = await connect({ servers: nats.url });
  await ensureTopology(nc, await jetstreamManager(nc));
  const logger = createLogger('api-test', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' });
  const pool = createPgPool({ connectionString: db.url, max: 10 }, logger);
  await migrateRegistry(pool);
  const credentials = await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS);
  const projection = registryProjection({ pool, credentials });
  await projection.checkpoint.migrate();
  const running: RunningProcessor = await runProcessor(projection, { nc, logger });
  const api = await createApi({
    config: {
      issuer: 'telly',
      audience: 'telly-api',
      jwtPrivateKey: undefined,
      jwtKeyFile: undefined,
      oidcProviders: options.oidcProviders,
    },
    nc,
    pool,
    logger,
  });
  const port = await api.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    nc,
    pool,
    credentials,
    api,
    async stop() {
      await api.close();
      await running.stop();
      await pool.end();
      await nc.close();
      await Promise.all([nats.stop(), db.stop()]);
    },
  };
}

export interface GraphqlResponse<T = Record<string, unknown>> {
  status: number;
  data: T | null | undefined;
  errors:
    | { message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }[]
    | undefined;
}

/** POSTs a GraphQL operation over real HTTP, with `Authorization: Bearer <token>` when given. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphqlResponse<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T | null; errors?: GraphqlResponse['errors'] };
  return { status: res.status, data: body.data, errors: body.errors };
}

/** The data of a successful operation; fails the test with the errors otherwise. */
export async function ok<T = Record<string, unknown>>(
  url: string,
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
  url: string,
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

export async function signup(url: string, email: string, tenantName = 'acme'): Promise<Signed> {
  const data = await ok<{ signup: Signed }>(url, SIGNUP, {
    input: { email, password: 'correct horse battery staple', tenantName },
  });
  return data.signup;
}
