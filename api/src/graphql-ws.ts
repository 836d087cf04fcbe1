import type { Server } from 'node:http';
import type { Logger } from '@telly/runtime';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { toApiError } from './errors.ts';
import { GRAPHQL_PATH, type GraphqlApp } from './yoga.ts';

/** A graphql-ws message larger than this closes the socket. @default 64 KiB */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;

type Enveloped = ReturnType<GraphqlApp['getEnveloped']>;

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on the GraphQL path, beside yoga's HTTP and
 * SSE: the same schema, plugins, error masking and context, with the token given as the
 * `authorization` connection parameter (or the upgrade request's Authorization header).
 */
export function serveGraphqlWs(server: Server, yoga: GraphqlApp, logger: Logger): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: MAX_WS_MESSAGE_BYTES });
  wss.on('error', (err) => logger.error({ err }, 'graphql-ws server error'));
  const disposable = useServer<Record<string, unknown>>(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = yoga.getEnveloped({ ...ctx, params });
        let document: ExecutionArgs['document'];
        try {
          document = enveloped.parse(params.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        let contextValue: Awaited<ReturnType<Enveloped['contextFactory']>>;
        try {
          contextValue = await enveloped.contextFactory();
        } catch (err) {
          return [toApiError(err)];
        }
        return {
          schema: enveloped.schema,
          document,
          operationName: params.operationName,
          variableValues: params.variables,
          contextValue,
          rootValue: enveloped,
        } satisfies ExecutionArgs;
      },
    },
    wss,
  );
  return {
    async close() {
      await disposable.dispose();
    },
  };
}
