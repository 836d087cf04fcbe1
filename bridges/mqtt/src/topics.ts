import { isSubjectError, isTellyId, parseMessageTopic, SubjectError } from '@telly/schemas';

/**
 * The MQTT topic grammar of the bridge, in one place:
 * - `channels/<channel>/messages[/<subtopic>…][/ct/<content type>]`: a thing publishes to a
 *   channel, or subscribes to it (any filter below `messages`);
 * - `things/<thing>/commands` (or `…/commands/#`): a thing subscribes to its commands;
 * - `things/<thing>/commands/<command>/result`: a thing publishes a command's result.
 */

/** What a PUBLISH topic asks for. */
export type MqttPublishTopic =
  | {
      kind: 'messages';
      channelId: string;
      subtopic: readonly string[];
      /** From a `/ct/<content type>` suffix; the payload decides when absent. */
      contentType: string | undefined;
    }
  | { kind: 'command-result'; thingId: string; commandId: string }
  | { kind: 'invalid'; error: SubjectError };

/** What a SUBSCRIBE (or UNSUBSCRIBE) topic filter asks for. */
export type MqttSubscriptionTopic =
  | { kind: 'messages'; channelId: string }
  | { kind: 'commands'; thingId: string }
  | { kind: 'invalid'; error: SubjectError };

/** `things/<thing>/commands`: where a connected thing receives its commands (QoS 1). */
export function commandTopic(thingId: string): string {
  return `things/${thingId}/commands`;
}

/** `channels/<channel>/messages[/<subtopic>…]`: where subscribers receive a channel's messages. */
export function channelTopic(channelId: string, subtopic: readonly string[]): string {
  return ['channels', channelId, 'messages', ...subtopic].join('/');
}

export function parseMqttTopic(topic: string, use: 'publish'): MqttPublishTopic;
export function parseMqttTopic(topic: string, use: 'subscribe'): MqttSubscriptionTopic;
export function parseMqttTopic(
  topic: string,
  use: 'publish' | 'subscribe',
): MqttPublishTopic | MqttSubscriptionTopic {
  const levels = topic.split('/');
  if (levels[0] === 'things') return thingTopic(topic, levels, use);
  if (use === 'subscribe') {
    const channelId = levels[1];
    return levels[0] === 'channels' && levels[2] === 'messages' && channelId
      ? { kind: 'messages', channelId }
      : invalid(topic);
  }
  try {
    const { channel, subtopic, contentType } = parseMessageTopic(topic);
    return { kind: 'messages', channelId: channel, subtopic, contentType };
  } catch (err) {
    if (isSubjectError(err)) return { kind: 'invalid', error: err };
    throw err;
  }
}

function thingTopic(
  topic: string,
  [, thingId, commands, ...rest]: string[],
  use: 'publish' | 'subscribe',
): MqttPublishTopic | MqttSubscriptionTopic {
  if (!isTellyId(thingId) || commands !== 'commands') return invalid(topic);
  if (use === 'subscribe') {
    return rest.length === 0 || (rest.length === 1 && rest[0] === '#')
      ? { kind: 'commands', thingId }
      : invalid(topic);
  }
  const [commandId, result, ...more] = rest;
  return isTellyId(commandId) && result === 'result' && more.length === 0
    ? { kind: 'command-result', thingId, commandId }
    : invalid(topic);
}

function invalid(topic: string): { kind: 'invalid'; error: SubjectError } {
  return {
    kind: 'invalid',
    error: new SubjectError(
      'INVALID_TOPIC',
      `${JSON.stringify(topic)} is not channels/{channel}/messages[/{subtopic…}] nor a thing's command topic`,
      { subject: topic },
    ),
  };
}
