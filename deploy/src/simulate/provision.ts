// Provisions a fleet through the GraphQL API as an operator would: logs in (signing up when
// the account does not exist yet), creates one channel, then creates the things and connects
// them to it, several per request (aliased mutations) and a few requests at a time.

import { MAX_QUERY_ALIASES } from '@telly/api';
import { isProvisionError } from './errors.ts';
import { graphql, graphqlUrl } from './graphql.ts';
import type { DeviceCredentials } from './types.ts';

/** @default mutations per GraphQL request */
export const DEFAULT_BATCH = 10;
/** @default GraphQL requests in flight */
export const DEFAULT_CONCURRENCY = 4;

export interface ProvisionOptions {
  /** API base URL or GraphQL endpoint, e.g. `http://127.0.0.1:4000`. */
  api: string;
  /** An access token (or API key); otherwise `email` and `password` log in. */
  token?: string | undefined;
  email?: string | undefined;
  password?: string | undefined;
  devices: number;
  /** @default 'simulated-fleet' */
  channelName?: string;
  /** Things are named `<prefix>-<n>`. @default 'sim' */
  namePrefix?: string;
  /** Things created per request, at most the API's alias limit. @default {@link DEFAULT_BATCH} */
  batch?: number;
  /** @default {@link DEFAULT_CONCURRENCY} */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface ProvisionedFleet {
  token: string;
  tenantId: string;
  channelId: string;
  devices: DeviceCredentials[];
}

const SIGNUP = `mutation($email: String!, $password: String!) {
  signup(input: { email: $email, password: $password, tenantName: "simulator" }) { accessToken }
}`;
const LOGIN = `mutation($email: String!, $password: String!) {
  login(input: { email: $email, password: $password }) { accessToken }
}`;

/** Logs in, or signs up when no such account exists; returns the access token. */
export async function logIn(
  api: string,
  email: string,
  password: string,
  signal?: AbortSignal,
): Promise<string> {
  const url = graphqlUrl(api);
  try {
    const { login } = await graphql<{ login: { accessToken: string } }>(
      url,
      LOGIN,
      { email, password },
      undefined,
      signal,
    );
    return login.accessToken;
  } catch (err) {
    if (!isProvisionError(err) || !err.codes.includes('INVALID_CREDENTIALS')) throw err;
    const { signup } = await graphql<{ signup: { accessToken: string } }>(
      url,
      SIGNUP,
      { email, password },
      undefined,
      signal,
    );
    return signup.accessToken;
  }
}

export async function provisionFleet(options: ProvisionOptions): Promise<ProvisionedFleet> {
  const url = graphqlUrl(options.api);
  const { signal } = options;
  let token = options.token;
  if (!token) {
    if (!options.email || !options.password) throw new TypeError('give a token, or an email and a password');
    token = await logIn(options.api, options.email, options.password, signal);
  }
  const call = <T>(query: string, variables: Record<string, unknown> = {}) =>
    graphql<T>(url, query, variables, token, signal);
  const { me } = await call<{ me: { tenant: { id: string } } }>('{ me { tenant { id } } }');
  const { createChannel } = await call<{ createChannel: { id: string } }>(
    'mutation($name: String!) { createChannel(input: { name: $name }) { id } }',
    { name: options.channelName ?? 'simulated-fleet' },
  );
  const channelId = createChannel.id;
  const prefix = options.namePrefix ?? 'sim';
  // each thing of a batch is one aliased field: the API refuses more aliases than its limit
  const batch = Math.min(options.batch ?? DEFAULT_BATCH, MAX_QUERY_ALIASES);
  const devices: DeviceCredentials[] = new Array(options.devices);
  let next = 0;
  const worker = async () => {
    while (next < options.devices) {
      const start = next;
      const count = Math.min(batch, options.devices - start);
      next += count;
      const indexes = Array.from({ length: count }, (_, i) => start + i);
      const created = await call<Record<string, { key: string; thing: { id: string } }>>(
        `mutation { ${indexes
          .map(
            (i) =>
              `t${i}: createThing(input: { name: ${JSON.stringify(`${prefix}-${i + 1}`)} }) { key thing { id } }`,
          )
          .join('\n')} }`,
      );
      const connects = indexes.map(
        (i) => `c${i}: connect(thingId: "${created[`t${i}`]!.thing.id}", channelId: $c)`,
      );
      await call(`mutation($c: ID!) { ${connects.join('\n')} }`, { c: channelId });
      for (const i of indexes) {
        const { key, thing } = created[`t${i}`]!;
        devices[i] = { thingId: thing.id, key, channelId };
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? DEFAULT_CONCURRENCY }, worker));
  return { token, tenantId: me.tenant.id, channelId, devices };
}
