import type { DeviceSession } from '@telly/bridge-core';
import type { Logger } from '@telly/runtime';
import type { AedesOptions, Client } from 'aedes';
import type { ChannelFeeds } from './channel-feeds.ts';
import { startCommandDownlink } from './command-downlink.ts';
import { type MqttSubscriptionTopic, parseMqttTopic } from './topics.ts';

/** What a session may read: its own thing's commands, and the channels its thing is connected to. */
function mayRead(session: DeviceSession, topic: MqttSubscriptionTopic): boolean {
  if (topic.kind === 'commands') return topic.thingId === session.thing.thingId;
  return topic.kind === 'messages' && session.connectedTo(topic.channelId);
}

/**
 * SUBSCRIBE: a channel the thing is connected to starts (or joins) that channel's feed from the
 * log; the thing's own command topic starts its command downlink; anything else is refused for that
 * topic alone (SUBACK 0x80). The grant is sent once the feed is consuming.
 */
export function subscribeAuth(
  sessionOf: (client: Client) => DeviceSession | undefined,
  feeds: () => ChannelFeeds,
  logger: Logger,
): NonNullable<AedesOptions['authorizeSubscribe']> {
  return (client, subscription, callback) => {
    const session = sessionOf(client);
    const topic = parseMqttTopic(subscription.topic, 'subscribe');
    if (!session || topic.kind === 'invalid' || !mayRead(session, topic)) return callback(null, null);
    const started =
      topic.kind === 'commands'
        ? startCommandDownlink(client, session, logger)
        : feeds().add(client, session.thing.tenantId, topic.channelId);
    started
      .then(() => callback(null, subscription))
      .catch((err: unknown) => {
        logger.warn({ err, topic: subscription.topic }, 'could not start a feed for a subscription');
        callback(null, null);
      });
  };
}

/**
 * Every delivery, live or queued for a persistent session while it was offline, is checked again
 * as it is written: a message waiting for a thing that has since been disconnected from its
 * channel is dropped, never sent.
 */
export function forwardAuth(
  sessionOf: (client: Client) => DeviceSession | undefined,
): NonNullable<AedesOptions['authorizeForward']> {
  return (client, packet) => {
    const session = sessionOf(client);
    return session && mayRead(session, parseMqttTopic(packet.topic, 'subscribe')) ? packet : null;
  };
}

/** UNSUBSCRIBE: the feeds the topics started stop for this client. */
export function unsubscribed(
  client: Client,
  session: DeviceSession | undefined,
  topics: string[],
  feeds: ChannelFeeds,
): void {
  for (const filter of topics) {
    const topic = parseMqttTopic(filter, 'subscribe');
    if (topic.kind === 'commands') session?.stopCommands();
    if (topic.kind === 'messages') feeds.remove(client, topic.channelId);
  }
}
