import type { IncomingMessage } from 'node:http';
import type { Logger } from '@telly/runtime';
import { parseThingAuthorization, THING_AUTH_SCHEME } from '@telly/schemas';
import type { Plugin } from 'graphql-yoga';
import type { Throttle } from '../auth/throttle.ts';
import { clientAddress } from '../client-address.ts';
import { isApiError } from '../errors.ts';
import type { RegistryService } from '../services/registry-service.ts';
import { problem } from './problem.ts';
import { useRoute } from './route.ts';

/** `/things/bootstrap/{externalId}`; the id is percent-encoded (MAC addresses have colons). */
export const BOOTSTRAP_PATH = /^\/things\/bootstrap\/([^/]+)$/;

const NO_CONFIG = 'no enabled bootstrap config for this external id and key';

/**
 * `GET /things/bootstrap/{externalId}` with `Authorization: Thing <externalKey>` (or the bare
 * key, as Mainflux devices send it): the thing's id, a fresh key, its channels and config.
 * An unknown id and a wrong key get the same 404, so the endpoint cannot be used to find ids.
 * Key guessing is throttled per source address and per external id (429 with Retry-After).
 */
export function useBootstrap(
  registry: RegistryService,
  throttle: Throttle,
  trustProxy: boolean,
  logger: Logger,
): Plugin {
  return useRoute(
    {
      name: 'bootstrap',
      match: (url) => BOOTSTRAP_PATH.exec(url.pathname)?.[1],
      async handle({ request, match, fetchAPI, serverContext }) {
        if (request.method !== 'GET') {
          return problem(fetchAPI, 405, 'Method Not Allowed', 'bootstrap is fetched with GET', {
            allow: 'GET',
          });
        }
        const header = request.headers.get('authorization')?.trim();
        if (!header) {
          return problem(fetchAPI, 401, 'Unauthorized', 'send Authorization: Thing <external key>', {
            'www-authenticate': THING_AUTH_SCHEME,
          });
        }
        const externalKey = parseThingAuthorization(header);
        const externalId = decoded(match);
        if (externalKey === undefined || externalId === undefined) {
          return problem(fetchAPI, 404, 'Not Found', NO_CONFIG);
        }
        const address = clientAddress(serverContext.req as IncomingMessage | undefined, trustProxy);
        let attempt: Awaited<ReturnType<Throttle['attempt']>>;
        try {
          attempt = await throttle.attempt(externalId, address);
        } catch (err) {
          if (!isApiError(err, 'TOO_MANY_ATTEMPTS')) throw err;
          return problem(fetchAPI, 429, 'Too Many Requests', err.message, {
            'retry-after': String(err.extensions.retryAfter),
          });
        }
        const answer = await registry.bootstrap(externalId, externalKey);
        if (!answer) return problem(fetchAPI, 404, 'Not Found', NO_CONFIG);
        await attempt.succeeded();
        const body = {
          id: answer.thingId,
          key: answer.thingKey,
          channels: answer.channels,
          content: answer.content,
        };
        return new fetchAPI.Response(JSON.stringify(body), {
          status: 200,
          headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        });
      },
    },
    logger,
  );
}

/** The external id, or undefined when its percent-encoding is broken (it then names nothing). */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
