import { type DeviceSession, type DeviceSessions, isIngestError } from '@telly/bridge-core';
import type { Logger } from '@telly/runtime';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';

/** CONNACK return codes the bridge answers a refused CONNECT with (MQTT 3.1.1 §3.2.2.3). */
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(returnCode: 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** `address:port` of the client's peer, as presence events record it. */
export function remoteAddress(client: Client): string {
  const socket = (client.req?.socket ?? client.conn) as { remoteAddress?: string; remotePort?: number };
  return socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort ?? 0}` : 'unknown';
}

/**
 * CONNECT: username = thing id, password = thing key. An accepted client gets a device session
 * (handed to `opened`); a refusal answers 5 for a disabled thing, 3 when the credentials could not
 * be looked up (the device may retry), 4 otherwise. `revoked` is called when the session is ended
 * by a change to the thing's credential.
 */
export function connectAuth(
  sessions: DeviceSessions,
  logger: Logger,
  opened: (client: Client, session: DeviceSession) => void,
  revoked: (client: Client) => void,
): NonNullable<AedesOptions['authenticate']> {
  return (client, username, password, done) => {
    sessions
      .open({
        key: password?.toString() ?? '',
        thingId: username ?? '',
        remoteAddress: remoteAddress(client),
        onRevoked: () => revoked(client),
      })
      .then((session) => {
        opened(client, session);
        done(null, true);
      })
      .catch((err: unknown) => {
        const reason = isIngestError(err) ? err.reason : 'unexpected';
        if (reason === 'unexpected') logger.error({ err }, 'MQTT authentication failed unexpectedly');
        if (reason === 'thing-disabled') return done(authError(NOT_AUTHORIZED, 'thing disabled'), false);
        if (reason === 'unavailable' || reason === 'unexpected') {
          return done(authError(SERVER_UNAVAILABLE, 'server unavailable'), false);
        }
        done(authError(BAD_USERNAME_OR_PASSWORD, 'bad username or password'), false);
      });
  };
}
