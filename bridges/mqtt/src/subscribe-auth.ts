import type { DeviceSession } from '@telly/bridge-core';
import type { Logger } from '@telly/runtime';
import type { AedesOptions, Client } from 'aedes';
import type { ChannelFeeds } from './channel-feeds.ts';
import { startCommandDownlink } from './command-downlink.ts';
import { parseMqttTopic } from './topics.ts';

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
    let started: Promise<void> | undefined;
    if (session && topic.kind === 'commands' && topic.thingId === session.thing.thingId) {
      started = startCommandDownlink(client, session, logger);
    } else if (session && topic.kind === 'messages' && session.connectedTo(topic.channelId)) {
      started = feeds().add(client.id, session.thing.tenantId, topic.channelId);
    }
    if (!started) return callback(null, null);
    started
      .then(() => callback(null, subscription))
      .catch((err: unknown) => {
        logger.warn({ err, topic: subscription.topic }, 'could not start a feed for a subscription');
        callback(null, null);
      });
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
    if (topic.kind === 'messages') feeds.remove(client.id, topic.channelId);
  }
}
