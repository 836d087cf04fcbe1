import type { Socket } from 'node:net';

/** `address:port` of a socket's peer: how presence events name it, and how a connection is found again. */
export function peerOf(socket: {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
}): string {
  return socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort ?? 0}` : 'unknown';
}

/**
 * Connections not authenticated yet, counted per source address: a connection from an address
 * that already has `maxPerAddress` of them is closed at once, so one host cannot hold the broker's
 * connection slots (and their CONNECT buffers) open without ever logging in. A connection leaves
 * the count when its CONNECT is accepted ({@link authenticated}) or when it closes.
 */
export class PendingConnections {
  readonly #maxPerAddress: number;
  readonly #perAddress = new Map<string, number>();
  /** Each counted connection and its release, by its peer (`address:port`). */
  readonly #pending = new Map<string, { socket: Socket; release: () => void }>();

  constructor(maxPerAddress: number) {
    this.#maxPerAddress = maxPerAddress;
  }

  /** Counts a new connection; false (and the socket destroyed) when its address is at the cap. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? 'unknown';
    const count = this.#perAddress.get(address) ?? 0;
    if (count >= this.#maxPerAddress) {
      socket.destroy();
      return false;
    }
    this.#perAddress.set(address, count + 1);
    const peer = peerOf(socket);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#pending.delete(peer);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
    };
    this.#pending.set(peer, { socket, release });
    socket.once('close', release);
    return true;
  }

  /** The connection from `peer` logged in: it no longer counts. */
  authenticated(peer: string): void {
    this.#pending.get(peer)?.release();
  }

  /** Closes every connection still not authenticated (the bridge is stopping). */
  closeAll(): void {
    for (const { socket } of [...this.#pending.values()]) socket.destroy();
  }
}
