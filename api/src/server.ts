import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@telly/runtime';
import { serveGraphqlWs } from './graphql-ws.ts';
import type { GraphqlApp } from './yoga.ts';

export interface ApiServer {
  server: Server;
  /** Resolves with the port bound (useful with 0). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** Serves the app over node:http, with graphql-ws on the same port. Not yet listening. */
export function serveApp(app: GraphqlApp, logger: Logger): ApiServer {
  const server = createServer(app);
  const graphqlWs = serveGraphqlWs(server, app, logger);
  return {
    server,
    listen: (port, host = '0.0.0.0') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    async close() {
      await graphqlWs.close();
      // open SSE subscriptions would hold close() forever: end every connection once it began
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
