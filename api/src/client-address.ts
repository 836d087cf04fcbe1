import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The address of a caller that came with no socket (`app.fetch` in process). */
export const NO_ADDRESS = 'in-process';

/**
 * The caller's source address, which the throttles count by: the socket's peer, or, when
 * `trustProxy` is set (the API runs behind `telly up`'s proxy on its private port) and the peer
 * is loopback, the last `X-Forwarded-For` entry — the one that proxy appended for the socket it
 * accepted; earlier entries are the client's own word and are ignored.
 */
export function clientAddress(
  req: Pick<IncomingMessage, 'socket' | 'headers'> | undefined,
  trustProxy: boolean,
): string {
  const peer = req?.socket?.remoteAddress;
  if (!peer) return NO_ADDRESS;
  if (trustProxy && isLoopback(peer)) {
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.at(-1) : forwarded)?.split(',').at(-1)?.trim();
    if (last && isIP(last)) return normalized(last);
  }
  return normalized(peer);
}

function isLoopback(address: string): boolean {
  const a = normalized(address);
  return a === '::1' || a.startsWith('127.');
}

/** IPv4 peers of a dual-stack socket come as `::ffff:1.2.3.4`: one address, one counter. */
function normalized(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
