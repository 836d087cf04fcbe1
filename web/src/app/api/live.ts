// Live data over graphql-ws on the API's own origin: one socket per access token, so a
// refreshed token reconnects; a subscription the server ended for its token resubscribes.
import { type Client, createClient } from 'graphql-ws';
import { ApiRequestError } from './errors.ts';
import { GRAPHQL_PATH } from './graphql.ts';
import { accessToken, onToken, refresh } from './session.ts';

let client: Client | undefined;
onToken(() => {
  // new subscriptions take the new token; the old socket closes once its subscriptions ended
  const old = client;
  client = undefined;
  old?.dispose();
});

function current(): Client {
  client ??= createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL_PATH}`,
    lazy: true,
    retryAttempts: 5,
    connectionParams: async () => ({ authorization: `Bearer ${await accessToken()}` }),
  });
  return client;
}

export interface LiveHandlers<T> {
  next(data: T): void;
  /** The subscription ended for good (in words at the caller). */
  error(err: ApiRequestError): void;
}

const RESUBSCRIBE = new Set(['TOKEN_EXPIRED', 'UNAUTHENTICATED', 'SLOW_CONSUMER']);

/** Subscribes until the returned function is called. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  handlers: LiveHandlers<T>,
): () => void {
  let stopped = false;
  let unsubscribe = () => {};
  let retries = 0;
  const start = () => {
    unsubscribe = current().subscribe<T>(
      { query, variables },
      {
        next: ({ data, errors }) => {
          const first = errors?.[0];
          if (first) {
            const code = String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
            return void fail(new ApiRequestError(first.message, code));
          }
          retries = 0;
          if (data) handlers.next(data as T);
        },
        error: (err) => {
          const code =
            Array.isArray(err) && err[0]?.extensions?.code ? String(err[0].extensions.code) : 'NETWORK';
          const message = Array.isArray(err)
            ? String(err[0]?.message ?? 'subscription failed')
            : 'the live connection closed';
          fail(new ApiRequestError(message, code, undefined, { cause: err }));
        },
        complete: () => {},
      },
    );
  };
  const fail = (err: ApiRequestError) => {
    unsubscribe();
    if (stopped) return;
    if (RESUBSCRIBE.has(err.code) && retries++ < 3) {
      const again = err.code === 'SLOW_CONSUMER' ? Promise.resolve() : refresh().then(() => {});
      again.then(start, () => handlers.error(err));
      return;
    }
    handlers.error(err);
  };
  start();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
