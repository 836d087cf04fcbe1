import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/**
 * Where the bridge receives and sends datagrams. Plain UDP today; a DTLS transport would be
 * another implementation handing node-coap decrypted datagrams the same way (docs/coap.md).
 */
export interface CoapTransport {
  /** The socket node-coap reads from and answers on. */
  socket: Socket;
  port: number;
  /** What it is bound to, for the log. */
  address: string;
  close(): Promise<void>;
}

const EVERY_INTERFACE = new Set(['0.0.0.0', '::']);

const bind = (socket: Socket, port: number, address: string) =>
  new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });

/**
 * A UDP socket on `host:port`. Every interface (`0.0.0.0` or `::`) is one dual-stack `::`
 * socket, so IPv4 devices (seen as `::ffff:a.b.c.d`) and IPv6 devices reach the same port; a host
 * without IPv6 falls back to IPv4 only.
 */
export async function openUdpTransport(host: string, port: number): Promise<CoapTransport> {
  const candidates = EVERY_INTERFACE.has(host)
    ? [
        { type: 'udp6' as const, address: '::' },
        { type: 'udp4' as const, address: '0.0.0.0' },
      ]
    : [{ type: isIPv6(host) ? ('udp6' as const) : ('udp4' as const), address: host }];
  let lastError: unknown;
  for (const { type, address } of candidates) {
    const socket = createSocket({ type, ipv6Only: false });
    try {
      await bind(socket, port, address);
    } catch (err) {
      socket.close();
      lastError = err;
      // only a missing IPv6 stack falls back; a port in use is the caller's to know
      if (
        (err as { code?: string }).code !== 'EAFNOSUPPORT' &&
        (err as { code?: string }).code !== 'EADDRNOTAVAIL'
      )
        throw err;
      continue;
    }
    return {
      socket,
      port: socket.address().port,
      address,
      close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    };
  }
  throw lastError;
}
