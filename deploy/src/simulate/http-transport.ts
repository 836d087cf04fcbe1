// A simulated device over HTTP: POST /channels/{channel}/messages[/subtopic] with
// `Authorization: Thing <key>`, resolved on 202 (docs/devices.md), over keep-alive connections.
import http from 'node:http';
import https from 'node:https';
import { SendRefusedError } from './errors.ts';
import type { DeviceCredentials, Transport } from './types.ts';

/** A keep-alive agent for a whole fleet: sockets are reused across devices as they free up. */
export function keepAliveAgent(url: string): http.Agent {
  return new URL(url).protocol === 'https:'
    ? new https.Agent({ keepAlive: true })
    : new http.Agent({ keepAlive: true });
}

export class HttpTransport implements Transport {
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #authorization: string;

  constructor(baseUrl: string, device: DeviceCredentials, agent: http.Agent, subtopic?: string) {
    const suffix = subtopic ? `/${subtopic}` : '';
    this.#url = new URL(
      `channels/${device.channelId}/messages${suffix}`,
      baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`,
    );
    this.#agent = agent;
    this.#authorization = `Thing ${device.key}`;
  }

  get disconnects(): number {
    return 0;
  }

  async connect(): Promise<void> {}

  send(body: string): Promise<void> {
    const request = this.#url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            authorization: this.#authorization,
            'content-type': 'application/senml+json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => {
            if (res.statusCode === 202) resolve();
            else reject(new SendRefusedError(res.statusCode ?? 0, text.slice(0, 500)));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async close(): Promise<void> {}
}
