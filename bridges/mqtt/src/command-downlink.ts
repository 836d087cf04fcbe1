import { commandIdOf, type DeviceSession, encodeCommandDelivery } from '@telly/bridge-core';
import type { Logger } from '@telly/runtime';
import type { Client, PublishPacket, PubrelPacket } from 'aedes';
import { commandTopic } from './topics.ts';

/**
 * Starts feeding a session's commands to its client on `things/<thing>/commands` (QoS 1);
 * resolves once the feed is consuming, so the SUBACK goes out with commands already flowing.
 *
 * A command counts as delivered when the device has it: a persistent session (clean=false) keeps
 * outgoing QoS 1 packets, so its PUBACK is seen ({@link commandAcked}); a clean session's is not,
 * so writing it to the connection is the delivery.
 */
export async function startCommandDownlink(
  client: Client,
  session: DeviceSession,
  logger: Logger,
): Promise<void> {
  const commands = await session.commands();
  const topic = commandTopic(session.thing.thingId);
  (async () => {
    for await (const command of commands) {
      const packet = {
        cmd: 'publish',
        topic,
        payload: Buffer.from(encodeCommandDelivery(command)),
        qos: 1,
        retain: false,
        dup: false,
      } as const;
      client.publish(packet, (err) => {
        if (err) return logger.debug({ err: err.message }, 'command not written to the client');
        if (client.clean) session.delivered(command.id);
      });
    }
  })().catch((err: unknown) => logger.warn({ err, thingId: session.thing.thingId }, 'command feed ended'));
}

/** A client PUBACKed a packet: when it is one of its commands, the command is delivered. */
export function commandAcked(session: DeviceSession, packet: PublishPacket | PubrelPacket): void {
  if (!('topic' in packet) || packet.topic !== commandTopic(session.thing.thingId)) return;
  const id = commandIdOf(new Uint8Array(packet.payload as Buffer));
  if (id !== undefined) session.delivered(id);
}
