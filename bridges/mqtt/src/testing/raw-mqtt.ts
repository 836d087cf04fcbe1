// Test support: MQTT packets written byte by byte, for what no well-behaved client sends (an
// empty client id with CleanSession=0, a packet that announces 40 MiB).
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** A Remaining Length (MQTT 3.1.1 §2.2.3): 7 bits a byte, high bit = more bytes follow. */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

const utf8 = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};

/** A CONNECT packet of MQTT 3.1.1 with a username and password. */
export function connectPacket(options: {
  clientId: string;
  clean: boolean;
  username: string;
  password: string;
}): Buffer {
  const flags = 0x80 | 0x40 | (options.clean ? 0x02 : 0);
  const body = Buffer.concat([
    utf8('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    utf8(options.clientId),
    utf8(options.username),
    utf8(options.password),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** A fixed header: the type byte (`0x10` CONNECT, `0x30` QoS 0 PUBLISH), announcing `length` bytes after it. */
export function fixedHeader(type: number, length: number): Buffer {
  return Buffer.concat([Buffer.from([type]), remainingLength(length)]);
}

/** A TCP connection to the broker, with what it received and when it closed. */
export interface RawConnection {
  socket: Socket;
  /** Every byte received so far. */
  received(): Buffer;
  /** Resolves when the broker closed the connection (or it failed). */
  closed: Promise<void>;
}

export async function rawConnect(port: number): Promise<RawConnection> {
  const socket = connect({ host: '127.0.0.1', port });
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  await once(socket, 'connect');
  return { socket, received: () => received, closed };
}

/**
 * Logs in over a fresh connection: true on CONNACK 0, false when the broker closed it first
 * (or refused the login). The connection is closed either way.
 */
export async function rawLogin(
  port: number,
  login: { clientId: string; username: string; password: string },
): Promise<boolean> {
  const raw = await rawConnect(port);
  raw.socket.write(connectPacket({ ...login, clean: true }));
  const answered = new Promise<void>((resolve) =>
    raw.socket.on('data', () => raw.received().length >= 4 && resolve()),
  );
  await Promise.race([answered, raw.closed]);
  const accepted = raw.received().equals(Buffer.from([0x20, 0x02, 0x00, 0x00]));
  raw.socket.destroy();
  await raw.closed;
  return accepted;
}
