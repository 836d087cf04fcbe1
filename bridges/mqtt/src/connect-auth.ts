import { type DeviceSession, type DeviceSessions, isIngestError } from '@telly/bridge-core';
import type { Logger } from '@telly/runtime';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { sessionClientId } from './client-id.ts';
import { peerOf } from './pending-connections.ts';

/** CONNACK return codes the bridge answers a refused CONNECT with (MQTT 3.1.1 §3.2.2.3). */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** `address:port` of the client's peer, as presence events record it. */
export function remoteAddress(client: Client): string {
  return peerOf((client.req?.socket ?? client.conn) as Parameters<typeof peerOf>[0]);
}

/**
 * CONNECT: username = thing id, password = thing key. An accepted client gets a device session
 * (handed to `opened`) and is renamed `<thing>/<client id>` ({@link sessionClientId}) before
 * aedes looks up, resumes or takes over any session by that id. A refusal answers 2 for an empty
 * client id with CleanSession=0 (MQTT-3.1.3-8), 5 for a disabled thing, 3 when the credentials
 * could not be looked up (the device may retry), 4 otherwise. `revoked` is called when the
 * session is ended by a change to the thing's credential.
 */
export function connectAuth(
  sessions: DeviceSessions,
  logger: Logger,
  opened: (client: Client, session: DeviceSession) => void,
  revoked: (client: Client) => void,
): Required<Pick<AedesOptions, 'preConnect' | 'authenticate'>> {
  // aedes has replaced an empty id by a random one by the time it authenticates
  const requested = new WeakMap<Client, string>();
  return {
    preConnect(client, packet, callback) {
      requested.set(client, packet.clientId ?? '');
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      const clientId = requested.get(client) || client.id;
      if (!requested.get(client) && !client.clean) {
        return done(authError(IDENTIFIER_REJECTED, 'an empty client id needs CleanSession=1'), false);
      }
      sessions
        .open({
          key: password?.toString() ?? '',
          thingId: username ?? '',
          remoteAddress: remoteAddress(client),
          onRevoked: () => revoked(client),
        })
        .then((session) => {
          (client as { id: string }).id = sessionClientId(session.thing.thingId, clientId);
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
    },
  };
}
