import type { Logger } from '@telly/runtime';
import { parseThingAuthorization, THING_AUTH_SCHEME } from '@telly/schemas';
import type { Plugin } from 'graphql-yoga';
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
 */
export function useBootstrap(registry: RegistryService, logger: Logger): Plugin {
  return useRoute(
    {
      name: 'bootstrap',
      match: (url) => BOOTSTRAP_PATH.exec(url.pathname)?.[1],
      async handle({ request, match, fetchAPI }) {
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
        const answer =
          externalKey !== undefined && externalId !== undefined
            ? await registry.bootstrap(externalId, externalKey)
            : undefined;
        if (!answer) return problem(fetchAPI, 404, 'Not Found', NO_CONFIG);
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
