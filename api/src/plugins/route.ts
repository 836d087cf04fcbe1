import type { Logger } from '@telly/runtime';
import type { FetchAPI, Plugin } from 'graphql-yoga';
import { problem } from './problem.ts';

/** What a route's handler gets: the request, what its path matched, yoga's fetch API. */
export interface RouteRequest<M> {
  request: Request;
  url: URL;
  match: M;
  fetchAPI: FetchAPI;
  /** The adapter's context: `req`/`res` when served by node:http, `{}` for `yoga.fetch`. */
  serverContext: Record<string, unknown>;
}

export interface Route<M> {
  /** Names the route in logs and in the 500 it answers when its handler throws. */
  name: string;
  /** What the handler needs from the URL, or undefined when the request is not for this route. */
  match(url: URL): M | undefined;
  handle(request: RouteRequest<M>): Promise<Response> | Response;
}

/**
 * A plain HTTP route beside GraphQL as a yoga plugin: it answers the requests it matches before
 * yoga parses anything (`endResponse`), and passes the others on. An unexpected failure is logged
 * and answered with a 500 problem that says no more than where to look.
 */
export function useRoute<M>(route: Route<M>, logger: Logger): Plugin {
  return {
    async onRequest({ request, url, fetchAPI, serverContext, endResponse }) {
      const match = route.match(url);
      if (match === undefined) return;
      try {
        endResponse(await route.handle({ request, url, match, fetchAPI, serverContext }));
      } catch (err) {
        logger.error({ err }, `${route.name} failed`);
        endResponse(
          problem(fetchAPI, 500, 'Internal Server Error', `${route.name} failed; see the server log`),
        );
      }
    },
  };
}
