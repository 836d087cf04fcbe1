import { ApiRequestError } from './errors.ts';

export const GRAPHQL_PATH = '/graphql';

interface GraphqlError {
  message: string;
  extensions?: { code?: string; field?: string; retryAfter?: number };
}

/**
 * One POST /graphql with an optional bearer token: the data, or an ApiRequestError with the
 * first error's code (a network failure is NETWORK).
 */
export async function postGraphql<T>(
  query: string,
  variables: Record<string, unknown>,
  token: string | undefined,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiRequestError('the server cannot be reached', 'NETWORK', undefined, { cause: err });
  }
  let body: { data?: T | null; errors?: GraphqlError[] };
  try {
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw new ApiRequestError(`the server answered ${res.status} without GraphQL`, 'NETWORK', undefined, {
      cause: err,
    });
  }
  const first = body.errors?.[0];
  if (first) {
    const retry = first.extensions?.retryAfter;
    const message = retry ? `${first.message} Try again in ${Math.ceil(retry)} s.` : first.message;
    throw new ApiRequestError(
      message,
      first.extensions?.code ?? 'INTERNAL_SERVER_ERROR',
      first.extensions?.field,
    );
  }
  if (!body.data) throw new ApiRequestError('the server answered no data', 'INTERNAL_SERVER_ERROR');
  return body.data;
}
