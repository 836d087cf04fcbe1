import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HealthReport } from './health.ts';

export interface ObservabilityHandlers {
  health: () => Promise<HealthReport>;
  /** Prometheus text exposition. */
  metrics: () => Promise<string>;
  metricsContentType: string;
  /** Every other request (e.g. proxied to the API); 404 when absent. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  /** WebSocket upgrades (e.g. proxied to the API); refused when absent. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * Serves `GET /healthz` (200 when up or degraded, 503 when down, JSON naming each check) and
 * `GET /metrics` (Prometheus text). Resolves once listening; `port: 0` picks a free port.
 */
export async function serveObservability(
  handlers: ObservabilityHandlers,
  { port, host = '0.0.0.0' }: { port: number; host?: string },
): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const own = path === '/healthz' || path === '/readyz' || path === '/metrics';
    if (!own && handlers.fallback) {
      handlers.fallback(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const answer = async () => {
      if (path === '/healthz' || path === '/readyz') {
        const report = await handlers.health();
        // degraded still serves: 200, so load balancers keep sending traffic
        res.writeHead(report.status === 'down' ? 503 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(report));
      } else if (path === '/metrics') {
        const text = await handlers.metrics();
        res.writeHead(200, { 'content-type': handlers.metricsContentType }).end(text);
      } else {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            type: 'about:blank',
            title: 'Not Found',
            status: 404,
            detail: `no route ${path}`,
          }),
        );
      }
    };
    answer().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (handlers.upgrade) handlers.upgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
