import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegistryService } from './services/registry-service.ts';

export const BOOTSTRAP_PATH = /^\/things\/bootstrap\/([^/?]+)$/;

/** RFC 9457 problem details. */
export function sendProblem(res: ServerResponse, status: number, title: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}

/**
 * `GET /things/bootstrap/{externalId}` with `Authorization: Thing <externalKey>` (or the bare
 * key, as Mainflux devices send it): the thing's id, a fresh key, its channels and config.
 * An unknown id and a wrong key get the same 404, so the endpoint cannot be used to find ids.
 */
export async function handleBootstrap(
  registry: RegistryService,
  req: IncomingMessage,
  res: ServerResponse,
  externalId: string,
): Promise<void> {
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET');
    return sendProblem(res, 405, 'Method Not Allowed', 'bootstrap is fetched with GET');
  }
  const header = req.headers.authorization?.trim();
  if (!header) {
    res.setHeader('www-authenticate', 'Thing');
    return sendProblem(res, 401, 'Unauthorized', 'send Authorization: Thing <external key>');
  }
  const externalKey = header.replace(/^Thing\s+/i, '');
  const answer = await registry.bootstrap(decodeURIComponent(externalId), externalKey);
  if (!answer)
    return sendProblem(res, 404, 'Not Found', 'no enabled bootstrap config for this external id and key');
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(
    JSON.stringify({
      id: answer.thingId,
      key: answer.thingKey,
      channels: answer.channels,
      content: answer.content,
    }),
  );
}
