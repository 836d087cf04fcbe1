import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TellyError } from '@telly/schemas';
import { PacketSizeLimit } from './packet-size.ts';

/** A packet over the limit: the connection is closed with it. */
export class PacketTooLargeError extends TellyError<'MQTT_PACKET_TOO_LARGE'> {
  /** Size the packet announced in its fixed header (`Infinity` for a malformed length). */
  readonly size: number;
  constructor(size: number, maxBytes: number) {
    super('MQTT_PACKET_TOO_LARGE', `an MQTT packet of ${size} bytes is over the limit of ${maxBytes} bytes`);
    this.size = size;
  }
}

/**
 * A device connection (TCP or TLS socket, WebSocket stream) as the broker reads it: every byte
 * passes a {@link PacketSizeLimit} first, so a packet over the limit is refused from its header,
 * before the broker has buffered it, whether the client has authenticated or not. `tooLarge` is
 * called, then the connection is destroyed and none of that packet reaches the broker.
 */
export class LimitedConnection extends Duplex {
  readonly #inner: Duplex;

  constructor(inner: Duplex, maxBytes: number, tooLarge: (error: PacketTooLargeError) => void) {
    super({ allowHalfOpen: false });
    this.#inner = inner;
    const limit = new PacketSizeLimit(maxBytes);
    inner.on('data', (chunk: Buffer) => {
      const size = limit.check(chunk);
      if (size !== undefined) {
        const error = new PacketTooLargeError(size, maxBytes);
        tooLarge(error);
        this.destroy(error);
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err: Error) => this.destroy(err));
    inner.on('close', () => this.destroy());
  }

  /** The peer's address, as a socket gives it (undefined over WebSocket: read the upgrade request). */
  get remoteAddress(): string | undefined {
    return (this.#inner as Partial<Socket>).remoteAddress;
  }

  get remotePort(): number | undefined {
    return (this.#inner as Partial<Socket>).remotePort;
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#forward(chunk, callback);
  }

  /**
   * What was written while corked, as one write: the MQTT encoder writes a packet in pieces
   * (a PUBACK is three) inside a cork, and each piece would otherwise be a write of its own on
   * the socket — a system call each.
   */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    const data = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.#forward(data, callback);
  }

  /** Writes to the socket; done once it took the bytes, or once it drained if it is full. */
  #forward(data: Buffer, callback: (error?: Error | null) => void): void {
    if (this.#inner.write(data)) callback();
    else this.#inner.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#inner.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner.destroy();
    callback(error);
  }
}
