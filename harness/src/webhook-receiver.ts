import { createServer, type Server } from 'node:http';
import { freePort } from './free-port.ts';

/** A request the receiver got. */
export interface ReceivedHook {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A real HTTP server on 127.0.0.1 that records every request and answers with the status
 * `respond` gives (200 unless told otherwise): a webhook's receiver, or its outage (503).
 */
export class WebhookReceiver {
  readonly requests: ReceivedHook[] = [];
  /** The status of the next answers. */
  status = 200;
  readonly #server: Server;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(): Promise<WebhookReceiver> {
    const port = await freePort();
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        receiver?.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(receiver?.status ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, port);
    return receiver;
  }

  /** `http://127.0.0.1:<port>` + `path`. */
  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
