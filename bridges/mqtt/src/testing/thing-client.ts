// Test support: an MQTT.js client logged in as a thing, recording what it receives and whether
// the broker closed it, so a test can tell "PUBACKed" from "closed without PUBACK".
import { once } from 'node:events';
import type { ProvisionedThing } from '@telly/bridge-core/testing';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';

export interface ThingClient {
  client: MqttClient;
  /** From the CONNACK. */
  sessionPresent: boolean;
  /** Names of the SenML records received, in order. */
  received: string[];
  /** Resolves when the connection closed (either side). */
  closed: Promise<void>;
  /** Publishes; `acked` on PUBACK (or written, at QoS 0), `closed` when the connection closed first. */
  publish(topic: string, payload: string | Buffer, qos: 0 | 1): Promise<'acked' | 'closed'>;
}

/** Logs `thing` in over MQTT 3.1.1 at `url`, not reconnecting, recording from the first packet on. */
export async function connectAs(
  url: string,
  thing: ProvisionedThing,
  options: { clientId?: string; clean?: boolean } = {},
): Promise<ThingClient> {
  const client = mqtt.connect(url, {
    username: thing.thingId,
    password: thing.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...options,
  });
  const received: string[] = [];
  client.on('message', (_topic, payload) => {
    for (const record of JSON.parse(payload.toString()) as { n: string }[]) received.push(record.n);
  });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const [connack] = (await once(client as never, 'connect')) as [IConnackPacket];
  return {
    client,
    sessionPresent: connack.sessionPresent,
    received,
    closed,
    publish: (topic, payload, qos) =>
      Promise.race([
        closed.then(() => 'closed' as const),
        client.publishAsync(topic, payload, { qos }).then(
          () => 'acked' as const,
          () => 'closed' as const,
        ),
      ]),
  };
}
