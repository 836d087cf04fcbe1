// Test support: a hand-built CoAP endpoint, for what coap-client cannot be made to do on cue
// (send the very same datagram twice, have a request in flight while the bridge stops).
import { createSocket, type Socket } from 'node:dgram';
import { generate, type ParsedPacket, parse } from 'coap-packet';

/** A confirmable POST of `payload` to `path` (segments) with `?auth=<key>`. */
export function conPost(options: {
  messageId: number;
  token: string;
  path: string[];
  key: string;
  payload: string;
  contentFormat?: number;
}): Buffer {
  return generate({
    confirmable: true,
    messageId: options.messageId,
    token: Buffer.from(options.token, 'hex'),
    code: 'POST',
    options: [
      ...options.path.map((segment) => ({ name: 'Uri-Path' as const, value: Buffer.from(segment) })),
      { name: 'Content-Format', value: Buffer.of(options.contentFormat ?? 110) },
      { name: 'Uri-Query', value: Buffer.from(`auth=${options.key}`) },
    ],
    payload: Buffer.from(options.payload),
  });
}

/** A confirmable GET with Observe: 0 (a registration) of `path` with `?auth=<key>`. */
export function conObserve(options: {
  messageId: number;
  token: string;
  path: string[];
  key: string;
}): Buffer {
  return generate({
    confirmable: true,
    messageId: options.messageId,
    token: Buffer.from(options.token, 'hex'),
    code: 'GET',
    options: [
      { name: 'Observe', value: Buffer.alloc(0) },
      ...options.path.map((segment) => ({ name: 'Uri-Path' as const, value: Buffer.from(segment) })),
      { name: 'Uri-Query', value: Buffer.from(`auth=${options.key}`) },
    ],
  });
}

/** A Reset of message `messageId` (RFC 7252 §4.2: "I cannot process this"; for an observer, "stop"). */
export function reset(messageId: number): Buffer {
  return generate({ reset: true, confirmable: false, ack: false, messageId, code: '0.00' });
}

/** A UDP endpoint on 127.0.0.1 that keeps every answer it receives. */
export class RawCoap {
  readonly #socket: Socket;
  readonly #port: number;
  readonly answers: ParsedPacket[] = [];

  private constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.#port = port;
    socket.on('message', (m) => this.answers.push(parse(m)));
  }

  static async open(port: number): Promise<RawCoap> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawCoap(socket, port);
  }

  send(datagram: Buffer): void {
    this.#socket.send(datagram, this.#port, '127.0.0.1');
  }

  close(): void {
    this.#socket.close();
  }
}
