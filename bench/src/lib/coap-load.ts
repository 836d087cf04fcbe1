// A CoAP load generator: endpoints (UDP sockets) each sending confirmable POSTs one at a time
// (NSTART = 1, RFC 7252 §4.7) and the next as soon as the answer arrives, rotating over the
// devices, retransmitting after ACK_TIMEOUT like a device would. Built on coap-packet, the codec
// node-coap uses, so the bridge sees ordinary datagrams.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { generate, parse } from 'coap-packet';
import type { DeviceCredentials } from './simulator.ts';

/** RFC 7252 §4.8: the first retransmission of an unanswered CON. */
const ACK_TIMEOUT_MS = 2_000;
const MAX_RETRANSMIT = 4;

export interface CoapLoadResult {
  /** 2.04 answers. */
  accepted: number;
  /** Other answers by code (4.29 under the rate limit, …). */
  refused: Record<string, number>;
  /** Requests given up after MAX_RETRANSMIT retransmissions. */
  timeouts: number;
  retransmissions: number;
  seconds: number;
}

interface Pending {
  messageId: number;
  attempts: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (code: string | undefined) => void;
}

/** One endpoint: a socket with at most one request outstanding. */
class Endpoint {
  readonly #socket: Socket;
  readonly #port: number;
  #messageId = randomBytes(2).readUInt16BE(0);
  #pending: Pending | undefined;
  retransmissions = 0;

  constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.#port = port;
    socket.on('message', (message) => {
      const packet = parse(message);
      const pending = this.#pending;
      if (!pending || packet.messageId !== pending.messageId || !packet.ack) return;
      clearTimeout(pending.timer);
      this.#pending = undefined;
      pending.resolve(packet.code);
    });
  }

  static async open(port: number): Promise<Endpoint> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new Endpoint(socket, port);
  }

  /** POSTs `body` as `device`; the answer's code, or undefined when it never came. */
  post(device: DeviceCredentials, body: Buffer): Promise<string | undefined> {
    this.#messageId = (this.#messageId + 1) & 0xffff;
    const datagram = generate({
      confirmable: true,
      messageId: this.#messageId,
      token: randomBytes(4),
      code: 'POST',
      options: [
        { name: 'Uri-Path', value: Buffer.from('channels') },
        { name: 'Uri-Path', value: Buffer.from(device.channelId) },
        { name: 'Uri-Path', value: Buffer.from('messages') },
        { name: 'Content-Format', value: Buffer.of(110) },
        { name: 'Uri-Query', value: Buffer.from(`auth=${device.key}`) },
      ],
      payload: body,
    });
    return new Promise((resolve) => {
      const pending: Pending = {
        messageId: this.#messageId,
        attempts: 0,
        timer: undefined,
        resolve,
      };
      const send = () => {
        this.#socket.send(datagram, this.#port, '127.0.0.1');
        pending.timer = setTimeout(
          () => {
            if (pending.attempts++ >= MAX_RETRANSMIT) {
              this.#pending = undefined;
              return resolve(undefined);
            }
            this.retransmissions++;
            send();
          },
          ACK_TIMEOUT_MS * 2 ** pending.attempts,
        );
      };
      this.#pending = pending;
      send();
    });
  }

  close(): void {
    if (this.#pending) clearTimeout(this.#pending.timer);
    this.#socket.close();
  }
}

/** Runs `endpoints` endpoints against `port` for `seconds` (or until `signal` aborts). */
export async function coapLoad(options: {
  port: number;
  devices: readonly DeviceCredentials[];
  endpoints: number;
  seconds: number;
  body: string;
  signal: AbortSignal;
  /** Called with each 2.04's latency, ms from first sending. */
  onAnswer?: (ms: number) => void;
}): Promise<CoapLoadResult> {
  const body = Buffer.from(options.body);
  const endpoints = await Promise.all(
    Array.from({ length: options.endpoints }, () => Endpoint.open(options.port)),
  );
  const refused: Record<string, number> = {};
  let accepted = 0;
  let timeouts = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  try {
    await Promise.all(
      endpoints.map(async (endpoint) => {
        while (performance.now() < deadline && !options.signal.aborted) {
          const device = options.devices[next++ % options.devices.length]!;
          const sent = performance.now();
          const code = await endpoint.post(device, body);
          if (code === '2.04') {
            accepted++;
            options.onAnswer?.(performance.now() - sent);
          } else if (code === undefined) timeouts++;
          else refused[code] = (refused[code] ?? 0) + 1;
        }
      }),
    );
  } finally {
    for (const endpoint of endpoints) endpoint.close();
  }
  options.signal.throwIfAborted();
  return {
    accepted,
    refused,
    timeouts,
    retransmissions: endpoints.reduce((sum, e) => sum + e.retransmissions, 0),
    seconds: (performance.now() - started) / 1000,
  };
}
