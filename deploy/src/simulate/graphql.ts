// The few GraphQL calls the simulator makes, with errors turned into ProvisionError once here.
import { ProvisionError } from './errors.ts';

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** POSTs one operation to `url`; throws ProvisionError with the errors' codes when there are any. */
export async function graphql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  signal?: AbortSignal,
): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  let body: GraphQLResponse<T>;
  try {
    body = JSON.parse(text) as GraphQLResponse<T>;
  } catch (err) {
    throw new ProvisionError(
      `${url} answered ${res.status} with no GraphQL body: ${text.slice(0, 200)}`,
      [],
      {
        cause: err,
      },
    );
  }
  if (body.errors?.length || !body.data) {
    const codes = (body.errors ?? []).map((e) => e.extensions?.code ?? 'UNKNOWN');
    const messages = (body.errors ?? []).map((e) => e.message).join('; ');
    throw new ProvisionError(`GraphQL error from ${url}: ${messages || `status ${res.status}`}`, codes);
  }
  return body.data;
}

/** The GraphQL endpoint for an API base URL (`http://host:4000` → `http://host:4000/graphql`). */
export function graphqlUrl(api: string): string {
  const url = new URL(api);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/graphql';
  return url.toString();
}
