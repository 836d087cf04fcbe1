import type { FetchAPI } from 'graphql-yoga';

/** Media type of RFC 9457 problem details. */
export const PROBLEM_JSON = 'application/problem+json';

/**
 * An RFC 9457 problem details response: how every route beside GraphQL answers a failure.
 * `headers` adds e.g. `allow` to a 405 or `www-authenticate` to a 401.
 */
export function problem(
  fetchAPI: FetchAPI,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return new fetchAPI.Response(JSON.stringify({ type: 'about:blank', title, status, detail }), {
    status,
    headers: { 'content-type': PROBLEM_JSON, ...headers },
  });
}
